using System;
using System.Diagnostics;
using System.Globalization;
using Checkpoint.Store;

namespace Checkpoint.Runs;

/// <summary>
/// Tells the observer how far a session is: a progress record at most every quarter second (or when asked),
/// and a verbose line for each checkpoint taken since the last report. Used on the dispatching thread.
/// </summary>
internal sealed class ProgressReporter
{
    private static readonly TimeSpan s_interval = TimeSpan.FromMilliseconds(250);

    private readonly CheckpointStore _store;
    private readonly int _total;
    private readonly RunTally _tally;
    private readonly IRunObserver _observer;
    private readonly Stopwatch _clock;
    private readonly RateGovernor _governor;
    private readonly Stopwatch _lastReport = Stopwatch.StartNew();
    private int _checkpointsSeen;

    public ProgressReporter(CheckpointStore store, int total, RunTally tally, IRunObserver observer, Stopwatch clock, RateGovernor governor)
    {
        _governor = governor;
        _store = store;
        _total = total;
        _tally = tally;
        _observer = observer;
        _clock = clock;
        _checkpointsSeen = store.CheckpointsCompleted;
    }

    /// <summary>What the run waits for now (an API outage), shown with the progress; null when it works.</summary>
    public string? Waiting { get; set; }

    /// <summary>Reports progress when a quarter second has passed since the last report, or when <paramref name="force"/>.</summary>
    public void Report(bool force = false)
    {
        int checkpoints = _store.CheckpointsCompleted;
        if (checkpoints != _checkpointsSeen)
        {
            _checkpointsSeen = checkpoints;
            _observer.Verbose(string.Format(CultureInfo.InvariantCulture, "Checkpoint saved: {0} completed, {1} errors", _store.State.CompletedSamples, _store.State.ErrorCount));
        }

        if (!force && _lastReport.Elapsed < s_interval)
        {
            return;
        }

        _observer.Progress(Make(finished: false));
        _lastReport.Restart();
    }

    /// <summary>The last report, once the store is closed.</summary>
    public void Finished()
    {
        _observer.Verbose(string.Format(CultureInfo.InvariantCulture, "Checkpoint saved: {0} completed, {1} errors", _store.Index.CompletedCount, _store.Index.ErrorCount));
        _observer.Progress(Make(finished: true));
    }

    private RunProgress Make(bool finished)
    {
        double seconds = _clock.Elapsed.TotalSeconds;
        double rate = seconds > 0 ? _tally.Processed / seconds : 0;
        int left = Math.Max(0, _total - _store.Index.CompletedCount);
        TimeSpan? remaining = rate > 0 ? TimeSpan.FromSeconds(left / rate) : null;
        return new RunProgress(_store.Files.RunId, _total, Math.Min(_total, _store.Index.CompletedCount), _store.Index.FailedCount, _tally.Processed, rate, remaining, finished, finished ? null : Waiting)
        {
            Concurrency = _governor.Concurrency,
            RateLimitedCount = _governor.RateLimitedCount,
        };
    }
}
