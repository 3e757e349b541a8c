using System.Collections.Generic;
using System.Runtime.CompilerServices;
using Checkpoint.Datasets;

namespace Checkpoint.Runs;

/// <summary>
/// Hands what a sample's work reports to the observer, on the dispatching thread: verbose lines, records a
/// worker's block wrote to its other streams, finished samples (counted in the tally, and kept for another
/// pass when an outage left them pending); a fatal error is thrown there.
/// </summary>
internal sealed class EventDelivery
{
    private readonly RunTally _tally;
    private readonly IRunObserver _observer;

    public EventDelivery(RunTally tally, IRunObserver observer)
    {
        _tally = tally;
        _observer = observer;
    }

    /// <summary>The samples an outage left pending since the pass began, to try again once the API is back.</summary>
    public List<Sample> Abandoned { get; } = new();

    /// <summary>Delivers <paramref name="e"/>; call on the dispatching thread.</summary>
    [MethodImpl(JitOptions.Optimized)]
    public void Deliver(RunEvent e)
    {
        switch (e.Kind)
        {
            case RunEventKind.Verbose:
                _observer.Verbose(e.Message!);
                break;
            case RunEventKind.Finished:
                _tally.Count(e.FinalStatus, e.GivenUp);
                if (e.Abandoned is not null)
                {
                    Abandoned.Add(e.Abandoned);
                }

                if (e.Result is not null)
                {
                    _observer.SampleFinished(e.Result);
                }

                break;
            case RunEventKind.Streamed:
                _observer.Streamed(e.Record!);
                break;
            case RunEventKind.Fatal:
                throw e.Error!;
        }
    }
}
