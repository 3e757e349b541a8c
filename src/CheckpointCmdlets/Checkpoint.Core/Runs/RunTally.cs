using System;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Threading;
using Checkpoint.Store;

namespace Checkpoint.Runs;

/// <summary>
/// What one session of a run has done: the samples it handed to a processor, those it skipped, and the
/// samples it found or left completed and failed for good. Counted on the dispatching thread, except the
/// samples a worker was handed but did not start.
/// </summary>
internal sealed class RunTally
{
    private const int SkipMessagesShown = 3;

    private int _notStarted;
    private volatile bool _retryPass;

    /// <summary>Samples handed to a processor in the pass over the dataset.</summary>
    public int Processed { get; private set; }

    /// <summary>Samples skipped because they were completed already.</summary>
    public int Skipped { get; private set; }

    /// <summary>Samples whose winning record is completed.</summary>
    public int Completed { get; set; }

    /// <summary>Samples failed for good.</summary>
    public int Failed { get; set; }

    /// <summary>
    /// Samples a worker was handed but did not start because no new sample may start (the budget was spent,
    /// or nobody wants more results): counted in <see cref="Processed"/>, they were not processed.
    /// </summary>
    public int NotStarted => Volatile.Read(ref _notStarted);

    /// <summary>
    /// Set for the passes that try again the samples an outage left pending: they were counted as processed in
    /// the first pass, so each sample is counted once.
    /// </summary>
    public bool RetryPass
    {
        get => _retryPass;
        set => _retryPass = value;
    }

    /// <summary>A sample handed to a processor.</summary>
    [MethodImpl(JitOptions.Optimized)]
    public void Taken()
    {
        if (!_retryPass)
        {
            Processed++;
        }
    }

    /// <summary>A sample a worker was handed and did not start; safe from any thread.</summary>
    public void NotStartedOne()
    {
        if (!_retryPass)
        {
            Interlocked.Increment(ref _notStarted);
        }
    }

    /// <summary>Counts a sample by its status now: completed, or failed when the run gave up on it.</summary>
    [MethodImpl(JitOptions.Optimized)]
    public void Count(RecordStatus? status, bool givenUp)
    {
        if (status == RecordStatus.Completed)
        {
            Completed++;
        }
        else if (status == RecordStatus.Failed && givenUp)
        {
            Failed++;
        }
    }

    /// <summary>A completed sample skipped; the first few are told to <paramref name="verbose"/> by id.</summary>
    [MethodImpl(JitOptions.Optimized)]
    public void Skip(string sampleId, Action<string>? verbose)
    {
        Skipped++;
        if (Skipped <= SkipMessagesShown)
        {
            verbose?.Invoke("Skipping completed sample: " + sampleId);
        }
    }

    /// <summary>What the skips not told by id come to, or null when every one was told.</summary>
    public string? SkippedUntold() =>
        Skipped > SkipMessagesShown ? string.Format(CultureInfo.InvariantCulture, "... (skipping {0} more completed samples)", Skipped - SkipMessagesShown) : null;
}
