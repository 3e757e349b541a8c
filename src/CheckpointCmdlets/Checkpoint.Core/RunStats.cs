using System;

namespace Checkpoint;

/// <summary>
/// What Get-CheckpointStats emits for each run: flat scalar properties only, so that Export-Csv writes every
/// one as a column and Import-Csv gives the same values back.
/// </summary>
public sealed class RunStats
{
    /// <summary>The run id.</summary>
    public string RunId { get; init; } = string.Empty;

    /// <summary>The dataset file the run last used.</summary>
    public string Dataset { get; init; } = string.Empty;

    /// <summary>The model name.</summary>
    public string Model { get; init; } = string.Empty;

    /// <summary>The config hash, 8 hex digits.</summary>
    public string ConfigHash { get; init; } = string.Empty;

    /// <summary>The shards seen, such as "1/4,2/4", or empty for an unsharded run.</summary>
    public string Shards { get; init; } = string.Empty;

    /// <summary>Samples in the dataset (or in the shard, for a per-shard row).</summary>
    public int TotalSamples { get; init; }

    /// <summary>Samples whose winning record (in any file of the run) is completed.</summary>
    public int CompletedSamples { get; init; }

    /// <summary>Samples whose winning record is failed.</summary>
    public int FailedSamples { get; init; }

    /// <summary>Samples not yet attempted.</summary>
    public int PendingSamples { get; init; }

    /// <summary>Failed attempts recorded, history included.</summary>
    public int ErrorCount { get; init; }

    /// <summary>Completed samples as a percentage of the total, rounded to two decimals.</summary>
    public double PercentComplete { get; init; }

    /// <summary>When the run first started (UTC).</summary>
    public DateTime? StartedAt { get; init; }

    /// <summary>When the run last checkpointed (UTC).</summary>
    public DateTime? LastCheckpoint { get; init; }

    /// <summary>Running, Completed, Incomplete or Interrupted.</summary>
    public string Status { get; init; } = string.Empty;

    /// <summary>Input (prompt) tokens over every attempt, failed ones included.</summary>
    public long InputTokens { get; init; }

    /// <summary>Output (completion) tokens over every attempt, failed ones included.</summary>
    public long OutputTokens { get; init; }

    /// <summary>The run's cost so far, over every attempt (failed calls are paid too).</summary>
    public decimal TotalCost { get; init; }

    /// <summary>Calls the block took from the response cache ($CheckpointContext.Cached) instead of paying for them.</summary>
    public long CacheHits { get; init; }

    /// <summary>What those cached calls would have cost at the run's prices; not part of TotalCost.</summary>
    public decimal CachedCost { get; init; }

    /// <summary>TotalCost divided by the completed samples: what one completed sample cost, retries included.</summary>
    public decimal AverageCostPerSample { get; init; }

    /// <summary>(Pending + failed samples) x AverageCostPerSample: what finishing the run may cost.</summary>
    public decimal EstimatedRemainingCost { get; init; }

    /// <summary>The run's output directory, so that piping into the other cmdlets finds the run.</summary>
    public string OutputDirectory { get; init; } = string.Empty;

    /// <summary>The results file (the first shard's, for a sharded run).</summary>
    public string Path { get; init; } = string.Empty;
}
