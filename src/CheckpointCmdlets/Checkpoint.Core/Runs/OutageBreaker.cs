using System;
using System.Collections.Generic;

namespace Checkpoint.Runs;

/// <summary>
/// The run's circuit breaker. Every attempt's outcome is reported; after
/// <see cref="RunDefinition.MaxConsecutiveFailures"/> transient failures in a row (across samples) it opens: the
/// API is taken to be down, retries stop (the samples stay pending) and the dispatcher waits, then probes
/// with one sample. Any answer that is not a transient failure closes it again. The failures of the streak
/// that opens it are all the outage's, those of samples whose retries they used up before it opened too: the
/// verdict on such a sample is held until its streak ends. Thread-safe.
/// </summary>
internal sealed class OutageBreaker
{
    private readonly object _gate = new();
    private readonly int _threshold;
    private readonly List<Action<bool>> _held = new();

    // The streaks that opened the breaker, for a verdict asked for after its streak ended; one per outage.
    private readonly HashSet<int> _opened = new();
    private int _consecutive;
    private int _streak;
    private volatile BreakerState _state = BreakerState.Closed;

    public OutageBreaker(int threshold) => _threshold = Math.Max(1, threshold);

    public enum BreakerState
    {
        Closed,
        Open,
        Probing,
    }

    public BreakerState State => _state;

    /// <summary>True while retries may go on (the breaker is closed).</summary>
    public bool AllowsRetry => State == BreakerState.Closed;

    /// <summary>
    /// Takes in one attempt's outcome and returns the number of the streak of transient failures a failure
    /// belongs to, for <see cref="Hold"/>. When the outcome ends a streak, the verdicts held for it are given
    /// out, on this thread.
    /// </summary>
    public int Report(bool transientFailure)
    {
        List<Action<bool>>? settle = null;
        bool outage = false;
        int streak;
        lock (_gate)
        {
            if (!transientFailure)
            {
                if (_consecutive > 0)
                {
                    _consecutive = 0;
                    _streak++;
                    settle = TakeHeld();
                }

                _state = BreakerState.Closed;
            }
            else
            {
                _consecutive++;
                if (_state == BreakerState.Probing || _consecutive >= _threshold)
                {
                    _state = BreakerState.Open;
                    _opened.Add(_streak);
                    settle = TakeHeld();
                    outage = true;
                }
            }

            streak = _streak;
        }

        Give(settle, outage);
        return streak;
    }

    /// <summary>
    /// The number of the streak going on now, for an outcome that neither extends nor ends it (a 429: the
    /// server answered, but only to push back).
    /// </summary>
    public int CurrentStreak
    {
        get
        {
            lock (_gate)
            {
                return _streak;
            }
        }
    }

    /// <summary>
    /// Holds the verdict on a sample whose retries a transient failure of streak <paramref name="streak"/>
    /// used up, until the streak ends: <paramref name="settle"/> then gets true when the streak opened the
    /// breaker (the failures were the outage's: the sample stays pending), false when an answer broke it
    /// first (the sample failed for good). When the streak has ended already, returns that verdict and holds
    /// nothing; else returns null.
    /// </summary>
    public bool? Hold(int streak, Action<bool> settle)
    {
        lock (_gate)
        {
            if (_opened.Contains(streak))
            {
                return true;
            }

            if (streak != _streak)
            {
                return false;
            }

            _held.Add(settle);
            return null;
        }
    }

    /// <summary>
    /// Gives the verdicts still held, for the end of a run: <paramref name="pending"/> true leaves those
    /// samples pending.
    /// </summary>
    public void SettleHeld(bool pending)
    {
        List<Action<bool>>? settle;
        lock (_gate)
        {
            settle = TakeHeld();
        }

        Give(settle, pending);
    }

    /// <summary>Lets one probe through: retries stay off until it succeeds.</summary>
    public void StartProbe()
    {
        lock (_gate)
        {
            _state = BreakerState.Probing;
        }
    }

    private List<Action<bool>>? TakeHeld()
    {
        if (_held.Count == 0)
        {
            return null;
        }

        var taken = new List<Action<bool>>(_held);
        _held.Clear();
        return taken;
    }

    // Outside the lock: a verdict writes a record.
    private static void Give(List<Action<bool>>? settle, bool outage)
    {
        if (settle is null)
        {
            return;
        }

        foreach (Action<bool> verdict in settle)
        {
            verdict(outage);
        }
    }
}
