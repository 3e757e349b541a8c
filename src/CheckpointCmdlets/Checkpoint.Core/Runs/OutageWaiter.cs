using System;
using System.Globalization;
using System.Threading;

namespace Checkpoint.Runs;

/// <summary>
/// Waits out an API outage on the dispatching thread: while the <see cref="OutageBreaker"/> is open, no
/// sample starts; the run waits (-OutageWaitSeconds, doubling), then lets one probe through; past
/// -MaxOutageMinutes it stops with ApiOutage.
/// </summary>
internal sealed class OutageWaiter
{
    private readonly OutageBreaker _breaker;
    private readonly RunDefinition _definition;
    private readonly string _runId;
    private readonly IRunObserver _observer;
    private readonly ProgressReporter _progress;
    private DateTimeOffset? _outageStart;
    private TimeSpan _wait;

    public OutageWaiter(OutageBreaker breaker, RunDefinition definition, string runId, IRunObserver observer, ProgressReporter progress)
    {
        _breaker = breaker;
        _definition = definition;
        _runId = runId;
        _observer = observer;
        _progress = progress;
        _wait = definition.OutageWait;
    }

    /// <summary>
    /// Returns at once while the breaker is closed. Otherwise lets the samples in flight finish (and abandon)
    /// with <paramref name="waitForIdle"/>, waits, and lets one probe through; throws ApiOutage once the
    /// outage has lasted past -MaxOutageMinutes.
    /// </summary>
    public void WaitOut(Action waitForIdle, CancellationToken cancellationToken)
    {
        if (_breaker.State == OutageBreaker.BreakerState.Closed)
        {
            if (_outageStart is not null)
            {
                _observer.Verbose("The API answers again: the outage is over.");
                _outageStart = null;
                _wait = _definition.OutageWait;
                _progress.Waiting = null;
            }

            return;
        }

        waitForIdle();
        if (_breaker.State == OutageBreaker.BreakerState.Closed)
        {
            return;
        }

        DateTimeOffset now = DateTimeOffset.UtcNow;
        if (_outageStart is null)
        {
            _outageStart = now;
            _observer.Warning(string.Format(
                CultureInfo.InvariantCulture,
                "The API looks down: {0} attempts in a row failed transiently. New samples wait; the run probes again in {1:0.#} s and gives up after {2:0.#} min.",
                _definition.MaxConsecutiveFailures,
                _wait.TotalSeconds,
                _definition.MaxOutage.TotalMinutes));
        }
        else
        {
            _wait = TimeSpan.FromTicks(Math.Min(_wait.Ticks * 2, TimeSpan.FromDays(1).Ticks));
        }

        DateTimeOffset deadline = _outageStart.Value + _definition.MaxOutage;
        if (now >= deadline)
        {
            throw new CheckpointException(
                ErrorIds.ApiOutage,
                string.Format(
                    CultureInfo.InvariantCulture,
                    "The API has been failing for {0:0.#} min (-MaxOutageMinutes {1:0.#}). The run stopped; every result is kept and the samples that failed during the outage are pending. Resume-CheckpointRun finishes them once the API is back.",
                    (now - _outageStart.Value).TotalMinutes,
                    _definition.MaxOutage.TotalMinutes))
            { Target = _runId };
        }

        TimeSpan wait = _wait < deadline - now ? _wait : deadline - now;
        _observer.Verbose(string.Format(CultureInfo.InvariantCulture, "API outage: waiting {0:0.#} s before probing with one sample.", wait.TotalSeconds));
        DateTimeOffset until = now + wait;
        while (DateTimeOffset.UtcNow < until)
        {
            _progress.Waiting = string.Format(CultureInfo.InvariantCulture, "API outage: probing in {0:0} s", (until - DateTimeOffset.UtcNow).TotalSeconds);
            _progress.Report(force: true);
            TimeSpan left = until - DateTimeOffset.UtcNow;
            if (cancellationToken.WaitHandle.WaitOne(left < TimeSpan.FromSeconds(1) ? (left > TimeSpan.Zero ? left : TimeSpan.Zero) : TimeSpan.FromSeconds(1)))
            {
                cancellationToken.ThrowIfCancellationRequested();
            }
        }

        _progress.Waiting = "API outage: probing";
        _breaker.StartProbe();
    }
}
