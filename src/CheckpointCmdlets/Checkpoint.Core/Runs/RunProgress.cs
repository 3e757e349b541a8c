using System;

namespace Checkpoint.Runs;

/// <summary>A progress report of a run.</summary>
public sealed class RunProgress
{
    internal RunProgress(string runId, int total, int completed, int failed, int processedThisRun, double samplesPerSecond, TimeSpan? remaining, bool finished, string? waiting = null)
    {
        RunId = runId;
        Total = total;
        Completed = completed;
        Failed = failed;
        ProcessedThisRun = processedThisRun;
        SamplesPerSecond = samplesPerSecond;
        Remaining = remaining;
        Finished = finished;
        Waiting = waiting;
    }

    /// <summary>The run id.</summary>
    public string RunId { get; }

    /// <summary>Samples in the run (or shard).</summary>
    public int Total { get; }

    /// <summary>Samples completed.</summary>
    public int Completed { get; }

    /// <summary>Samples whose latest attempt failed.</summary>
    public int Failed { get; }

    /// <summary>Samples processed in this session.</summary>
    public int ProcessedThisRun { get; }

    /// <summary>Samples per second in this session.</summary>
    public double SamplesPerSecond { get; }

    /// <summary>Estimated time left, when there is a rate.</summary>
    public TimeSpan? Remaining { get; }

    /// <summary>True for the last report of a run.</summary>
    public bool Finished { get; }

    /// <summary>Why the run is waiting (an outage, a backoff), or null.</summary>
    public string? Waiting { get; }

    /// <summary>Samples that may be in flight now: -ThrottleLimit, lowered after a 429 and raised by successes.</summary>
    public int Concurrency { get; internal init; }

    /// <summary>Attempts answered with 429 (Too Many Requests) in this session.</summary>
    public int RateLimitedCount { get; internal init; }

    /// <summary>Percent of samples completed, 0 to 100.</summary>
    public int PercentComplete => Total == 0 ? 100 : (int)Math.Min(100, Completed * 100L / Total);
}
