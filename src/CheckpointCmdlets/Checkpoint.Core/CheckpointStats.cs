using System;
using System.Collections.Generic;
using Checkpoint.Store;

namespace Checkpoint;

/// <summary>What a checkpoint file holds, as counted by the loader.</summary>
public sealed class CheckpointStats
{
    internal CheckpointStats(int completed, int failed, int errors, long records, DateTimeOffset? lastCheckpoint, int? totalSamples, IReadOnlyList<LoadIssue> issues)
    {
        CompletedSamples = completed;
        FailedSamples = failed;
        ErrorCount = errors;
        TotalRecords = records;
        LastCheckpoint = lastCheckpoint;
        TotalSamples = totalSamples;
        Issues = issues;
    }

    /// <summary>Samples whose latest record is completed.</summary>
    public int CompletedSamples { get; }

    /// <summary>Samples whose latest record is failed.</summary>
    public int FailedSamples { get; }

    /// <summary>Failed attempts recorded.</summary>
    public int ErrorCount { get; }

    /// <summary>Good records in the file, history included.</summary>
    public long TotalRecords { get; }

    /// <summary>When the state was last checkpointed, or the newest record's time when there is no state.</summary>
    public DateTimeOffset? LastCheckpoint { get; }

    /// <summary>The dataset's sample count as the state file last knew it, or null without a state file.</summary>
    public int? TotalSamples { get; }

    /// <summary>Damage found while loading.</summary>
    public IReadOnlyList<LoadIssue> Issues { get; }
}
