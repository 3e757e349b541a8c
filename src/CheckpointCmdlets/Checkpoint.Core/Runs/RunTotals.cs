using System;
using System.Collections.Generic;
using System.Linq;
using Checkpoint.Store;

namespace Checkpoint.Runs;

/// <summary>
/// A run's totals and what follows from them: pending samples, the share done, the cost of a completed sample
/// and of finishing, and the run's status. The one answer for a session's <see cref="RunSummary"/>, a reader's
/// <see cref="RunStats"/>, -WhatIf's <see cref="RunPreview"/> and <see cref="CheckpointManager"/>.
/// </summary>
internal sealed class RunTotals
{
    // Known from a scan of the dataset (a session, a preview), not only from what the files kept.
    private readonly bool _totalScanned;

    private RunTotals(int total, int completed, int failed, long inputTokens, long outputTokens, decimal cost, bool totalScanned)
    {
        Total = total;
        Completed = completed;
        Failed = failed;
        InputTokens = inputTokens;
        OutputTokens = outputTokens;
        Cost = cost;
        _totalScanned = totalScanned;
    }

    /// <summary>Samples in the run (or shard).</summary>
    public int Total { get; }

    /// <summary>Samples whose winning record is completed.</summary>
    public int Completed { get; }

    /// <summary>Samples failed for good.</summary>
    public int Failed { get; }

    /// <summary>Samples neither completed nor failed for good.</summary>
    public int Pending => Math.Max(0, Total - Completed - Failed);

    /// <summary>Input tokens over every attempt counted.</summary>
    public long InputTokens { get; }

    /// <summary>Output tokens over every attempt counted.</summary>
    public long OutputTokens { get; }

    /// <summary>The cost of every attempt counted, failed ones included.</summary>
    public decimal Cost { get; }

    /// <summary>Calls taken from the response cache instead of being paid for, over every attempt counted.</summary>
    public long CacheHits { get; private init; }

    /// <summary>What those calls would have cost; not part of <see cref="Cost"/>.</summary>
    public decimal CachedCost { get; private init; }

    /// <summary>Completed samples as a percentage of the total, rounded to two decimals.</summary>
    public double PercentComplete => Total == 0 ? 0 : Math.Round(Completed * 100.0 / Total, 2);

    /// <summary>What one completed sample cost, retries included; null before any sample completed.</summary>
    public decimal? CostPerCompleted => Completed > 0 ? Cost / Completed : null;

    /// <summary>
    /// True when every sample is completed. A dataset's scan knows a shard with no samples is done; the files
    /// alone count no total then, and say nothing is.
    /// </summary>
    public bool IsComplete => Completed >= Total && (Total > 0 || _totalScanned);

    /// <summary>The totals of a session or a preview, which counted the samples of the dataset it read.</summary>
    public static RunTotals OfDataset(int total, int completed, int failed, long inputTokens, long outputTokens, decimal cost, long cacheHits = 0, decimal cachedCost = 0) =>
        new(total, completed, failed, inputTokens, outputTokens, cost, totalScanned: true) { CacheHits = cacheHits, CachedCost = cachedCost };

    /// <summary>
    /// The totals of a run's files, loaded as <paramref name="index"/>: the total is the one the state files
    /// kept, <paramref name="keptTotal"/>, or the samples with a record when more.
    /// </summary>
    public static RunTotals OfFiles(CheckpointIndex index, int keptTotal) =>
        new(Math.Max(keptTotal, index.CompletedCount + index.FailedCount), index.CompletedCount, index.FailedCount, index.Usage.InputTokens, index.Usage.OutputTokens, index.Usage.Cost, totalScanned: false)
        {
            CacheHits = index.Usage.CacheHits,
            CachedCost = index.Usage.CachedCost,
        };

    /// <summary>When the run last checkpointed: the latest state's time, else the newest record's, else null.</summary>
    public static DateTimeOffset? LastCheckpoint(IReadOnlyCollection<RunState> states, CheckpointIndex index) =>
        states.Count > 0 ? states.Max(s => s.LastCheckpoint)
        : index.LastRecordTicks > 0 ? new DateTimeOffset(index.LastRecordTicks, TimeSpan.Zero)
        : null;

    /// <summary>What finishing the run may cost: the pending and failed samples at <paramref name="costPerSample"/>.</summary>
    public decimal RemainingCost(decimal costPerSample) => decimal.Round(costPerSample * (Pending + Failed), 6);

    /// <summary>
    /// How a session ended: Interrupted when it was stopped; Incomplete when it failed or its dataset changed
    /// under it; else Completed when every sample is, BudgetReached when the budget stopped it, Incomplete.
    /// </summary>
    public RunStatus StatusAtEnd(bool interrupted, bool incomplete, bool budgetReached) =>
        interrupted ? RunStatus.Interrupted
        : incomplete ? RunStatus.Incomplete
        : IsComplete ? RunStatus.Completed
        : budgetReached ? RunStatus.BudgetReached
        : RunStatus.Incomplete;

    /// <summary>
    /// Where a run stands by its files: Running while a part is held; <paramref name="unknown"/> when a part's
    /// state is not known; else Completed when every sample is, else the last session's Interrupted or
    /// BudgetReached, else Incomplete.
    /// </summary>
    public string StatusOfFiles(bool running, string? unknown, IReadOnlyCollection<RunState> states) =>
        running ? nameof(RunStatus.Running)
        : unknown ?? (IsComplete ? nameof(RunStatus.Completed)
        : states.Any(s => s.Status == RunStatus.Interrupted) ? nameof(RunStatus.Interrupted)
        : states.Any(s => s.Status == RunStatus.BudgetReached) ? nameof(RunStatus.BudgetReached)
        : nameof(RunStatus.Incomplete));
}
