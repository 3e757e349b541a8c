using System;

namespace Checkpoint;

/// <summary>What Start-CheckpointRun and Resume-CheckpointRun emit for each run when it ends.</summary>
public sealed class RunSummary
{
    /// <summary>The run id.</summary>
    public string RunId { get; init; } = string.Empty;

    /// <summary>The dataset file.</summary>
    public string Dataset { get; init; } = string.Empty;

    /// <summary>The model name.</summary>
    public string Model { get; init; } = string.Empty;

    /// <summary>The shard as k/n, or empty for an unsharded run.</summary>
    public string Shard { get; init; } = string.Empty;

    /// <summary>Samples in the run (or in this shard).</summary>
    public int TotalSamples { get; init; }

    /// <summary>Samples whose winning record (in any file of the run) is completed.</summary>
    public int CompletedSamples { get; init; }

    /// <summary>Samples whose winning record is failed.</summary>
    public int FailedSamples { get; init; }

    /// <summary>Samples never attempted, or abandoned in flight.</summary>
    public int PendingSamples { get; init; }

    /// <summary>Samples attempted in this session.</summary>
    public int ProcessedThisRun { get; init; }

    /// <summary>Samples skipped because they were already completed.</summary>
    public int SkippedThisRun { get; init; }

    /// <summary>How long this session took.</summary>
    public TimeSpan Duration { get; init; }

    /// <summary>Completed, Incomplete, Interrupted or BudgetReached.</summary>
    public string Status { get; init; } = string.Empty;

    /// <summary>Input (prompt) tokens over every attempt, failed ones included.</summary>
    public long InputTokens { get; init; }

    /// <summary>Output (completion) tokens over every attempt, failed ones included.</summary>
    public long OutputTokens { get; init; }

    /// <summary>
    /// The run's cost so far, over every attempt (failed calls are paid too): a shard's own; for an unsharded
    /// run, with the cost of the shards' files it finishes, whose samples it counts as its own.
    /// </summary>
    public decimal TotalCost { get; init; }

    /// <summary>Calls the block took from the response cache ($CheckpointContext.Cached) instead of paying for them.</summary>
    public long CacheHits { get; init; }

    /// <summary>What those cached calls would have cost at the run's prices; not part of TotalCost.</summary>
    public decimal CachedCost { get; init; }

    /// <summary>TotalCost divided by the completed samples: what one completed sample cost, retries included.</summary>
    public decimal AverageCostPerSample { get; init; }

    /// <summary>(Pending + failed samples) x AverageCostPerSample: what finishing the run may cost.</summary>
    public decimal EstimatedRemainingCost { get; init; }

    /// <summary>Attempts answered with 429 (Too Many Requests) in this session.</summary>
    public int RateLimitedCount { get; init; }

    /// <summary>Samples that could be in flight when the session ended: -ThrottleLimit, or less after 429s.</summary>
    public int Concurrency { get; init; }

    /// <summary>The run's output directory, so that piping into the other cmdlets finds the run.</summary>
    public string OutputDirectory { get; init; } = string.Empty;

    /// <summary>The results file of the run (or shard).</summary>
    public string Path { get; init; } = string.Empty;
}
