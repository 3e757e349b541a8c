using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using Checkpoint.Datasets;
using Checkpoint.Store;

namespace Checkpoint.Runs;

/// <summary>
/// Runs samples one at a time on the caller's thread (ThrottleLimit 1, as ForEach-Object does). The block
/// runs on this thread; its records are written on a <see cref="RecordQueue"/>'s thread meanwhile, except
/// under -MaxCost, whose budget check needs every record counted before the next sample starts.
/// </summary>
internal sealed class InlineDispatch
{
    private static readonly TimeSpan s_pollInterval = TimeSpan.FromMilliseconds(50);

    private readonly SampleRunner _runner;
    private readonly CheckpointStore _store;
    private readonly RunTally _tally;
    private readonly StartGate _gate;
    private readonly OutageWaiter _outage;
    private readonly ProgressReporter _progress;
    private readonly EventDelivery _delivery;
    private readonly bool _queueRecords;

    /// <summary>
    /// A dispatcher whose runner's reports go to <paramref name="delivery"/> on this thread; with
    /// <paramref name="queueRecords"/> false, every record is counted before the next sample starts.
    /// </summary>
    public InlineDispatch(SampleRunner runner, CheckpointStore store, RunTally tally, StartGate gate, OutageWaiter outage, ProgressReporter progress, EventDelivery delivery, bool queueRecords)
    {
        _runner = runner;
        _store = store;
        _tally = tally;
        _gate = gate;
        _outage = outage;
        _progress = progress;
        _delivery = delivery;
        _queueRecords = queueRecords;
    }

    /// <summary>Runs the samples of <paramref name="source"/> with <paramref name="processor"/> until it ends or no new sample may start.</summary>
    public void Run(ISampleProcessor processor, IEnumerable<(Sample Sample, SampleEntry? Entry)> source, CancellationToken cancellationToken)
    {
        var events = new ConcurrentQueue<RunEvent>();
        _runner.Sink = events.Enqueue;
        var queue = _queueRecords ? new RecordQueue(_store) : null;
        _runner.Queue = queue;
        Exception? fatal = null;
        _runner.Retries.Fatal = e => fatal ??= e;
        void DeliverQueued()
        {
            if (fatal is not null)
            {
                throw fatal;
            }

            while (events.TryDequeue(out RunEvent? e))
            {
                _delivery.Deliver(e);
            }
        }

        // The retries whose backoff has ended run before the next sample; with untilIdle, every sample in retry
        // is waited for.
        void RunRetries(bool untilIdle)
        {
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                bool wait = untilIdle && _runner.Retries.Waiting > 0;
                if (!_runner.Retries.RunNext(processor, wait ? s_pollInterval : TimeSpan.Zero) && !wait)
                {
                    break;
                }

                DeliverQueued();
                _progress.Report();
            }
        }

        try
        {
            foreach ((Sample sample, SampleEntry? entry) in source)
            {
                RunRetries(untilIdle: false);
                if (_gate.IsClosed())
                {
                    break;
                }

                _outage.WaitOut(
                    () =>
                    {
                        RunRetries(untilIdle: true);
                        queue?.Flush();
                    },
                    cancellationToken);
                _tally.Taken();
                _runner.Run(sample, entry?.Attempt ?? 0, processor, cancellationToken);
                DeliverQueued();
                _progress.Report();
            }

            RunRetries(untilIdle: true);
        }
        finally
        {
            // Whatever ends the loop, the results already made are written before the store closes; a sample
            // still in retry (the run is stopping) stays pending.
            _runner.Retries.Abandon();
            _runner.Queue = null;
            queue?.Dispose();
        }

        if (queue?.Failure is Exception failure)
        {
            throw failure;
        }

        DeliverQueued();
    }
}
