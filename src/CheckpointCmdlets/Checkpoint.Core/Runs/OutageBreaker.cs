using System;

namespace Checkpoint.Runs;

/// <summary>
/// The run's circuit breaker. Every attempt's outcome is reported; after
/// <see cref="RunPlan.MaxConsecutiveFailures"/> transient failures in a row (across samples) it opens: the
/// API is taken to be down, retries stop (the samples stay pending) and the dispatcher waits, then probes
/// with one sample. Any answer that is not a transient failure closes it again. Thread-safe.
/// </summary>
internal sealed class OutageBreaker
{
    private readonly object _gate = new();
    private readonly int _threshold;
    private int _consecutive;
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

    /// <summary>Takes in one attempt's outcome.</summary>
    public void Report(bool transientFailure)
    {
        lock (_gate)
        {
            if (!transientFailure)
            {
                _consecutive = 0;
                if (_state != BreakerState.Closed)
                {
                    _state = BreakerState.Closed;
                }

                return;
            }

            _consecutive++;
            if (_state == BreakerState.Probing || _consecutive >= _threshold)
            {
                _state = BreakerState.Open;
            }
        }
    }

    /// <summary>Lets one probe through: retries stay off until it succeeds.</summary>
    public void StartProbe()
    {
        lock (_gate)
        {
            _state = BreakerState.Probing;
        }
    }
}
