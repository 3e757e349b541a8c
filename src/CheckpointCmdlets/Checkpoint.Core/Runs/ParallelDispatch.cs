using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Globalization;
using System.Threading;
using Checkpoint.Datasets;
using Checkpoint.Store;

namespace Checkpoint.Runs;

/// <summary>
/// Runs samples on ThrottleLimit worker threads, each with a processor of its own. The dispatcher (the
/// caller's thread) hands samples over one at a time as workers take them, and delivers what the workers
/// report on its own thread. No worker outlives <see cref="Run"/>.
/// </summary>
internal sealed class ParallelDispatch
{
    private static readonly TimeSpan s_pollInterval = TimeSpan.FromMilliseconds(50);

    // How long an idle worker waits for a new sample before it looks for a retry whose backoff has ended.
    private static readonly TimeSpan s_retryPoll = TimeSpan.FromMilliseconds(10);

    private readonly SampleRunner _runner;
    private readonly OutageBreaker _breaker;
    private readonly RunTally _tally;
    private readonly StartGate _gate;
    private readonly OutageWaiter _outage;
    private readonly ProgressReporter _progress;
    private readonly EventDelivery _delivery;
    private readonly int _workers;
    private Exception? _endingFatal;

    /// <summary>
    /// A dispatcher of <paramref name="workers"/> threads whose reports go to <paramref name="delivery"/> on the
    /// dispatching thread.
    /// </summary>
    public ParallelDispatch(SampleRunner runner, OutageBreaker breaker, RunTally tally, StartGate gate, OutageWaiter outage, ProgressReporter progress, EventDelivery delivery, int workers)
    {
        _runner = runner;
        _breaker = breaker;
        _tally = tally;
        _gate = gate;
        _outage = outage;
        _progress = progress;
        _delivery = delivery;
        _workers = workers;
    }

    /// <summary>Runs the samples of <paramref name="source"/> until it ends or no new sample may start, then waits for those in flight.</summary>
    public void Run(ISampleProcessorFactory factory, IEnumerable<(Sample Sample, SampleEntry? Entry)> source, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var work = new BlockingCollection<(Sample Sample, int Previous)>(_workers);
        using var events = new BlockingCollection<RunEvent>();
        // Set by a worker each time it takes a sample: the dispatcher waits on it, not in the collection's
        // own blocking add, which spins the CPU that the workers need before it sleeps.
        using var taken = new AutoResetEvent(false);
        int inFlight = 0;
        _runner.Sink = events.Add;
        _runner.Retries.Fatal = e => events.Add(RunEvent.Fatal(e));
        var workers = new List<Thread>();
        for (int i = 0; i < _workers; i++)
        {
            var worker = new Thread(() => Work(factory, work, taken, events, ref inFlight, stop.Token))
            {
                IsBackground = true,
                Name = "Checkpoint worker " + (i + 1).ToString(CultureInfo.InvariantCulture),
            };
            worker.Start();
            workers.Add(worker);
        }

        try
        {
            foreach ((Sample sample, SampleEntry? entry) in source)
            {
                if (_gate.IsClosed())
                {
                    break;
                }

                _outage.WaitOut(() => DrainUntilIdle(events, ref inFlight, stop), cancellationToken);
                // Counted before it is handed over (a worker may finish it at once), and uncounted if the
                // hand-over never happens because the run is stopping.
                Interlocked.Increment(ref inFlight);
                bool added = false;
                try
                {
                    while (!(added = work.TryAdd((sample, entry?.Attempt ?? 0))))
                    {
                        taken.WaitOne(s_pollInterval);
                        Drain(events, stop);
                        cancellationToken.ThrowIfCancellationRequested();
                    }
                }
                finally
                {
                    if (!added)
                    {
                        Interlocked.Decrement(ref inFlight);
                    }
                }

                _tally.Taken();

                if (_breaker.State == OutageBreaker.BreakerState.Probing)
                {
                    DrainUntilIdle(events, ref inFlight, stop);
                }

                Drain(events, stop);
            }
        }
        catch
        {
            // A failure on this thread (the caller's pipeline refused a result, say): no more samples start.
            stop.Cancel();
            throw;
        }
        finally
        {
            work.CompleteAdding();
            if (cancellationToken.IsCancellationRequested)
            {
                stop.Cancel();
            }

            bool drained = false;
            try
            {
                DrainUntilIdle(events, ref inFlight, stop, throwOnFatal: false);
                drained = true;
            }
            finally
            {
                // The collections the workers use are disposed when this method returns: no worker may outlive
                // it, even when delivering what they reported failed.
                if (!drained)
                {
                    stop.Cancel();
                }

                foreach (Thread worker in workers)
                {
                    worker.Join();
                }

                _runner.Retries.Abandon();
            }

            Drain(events, stop, throwOnFatal: false);
        }

        // Samples in retry end after the last one is handed over: an error of theirs (ApiOutage) comes here.
        if (_endingFatal is Exception fatal)
        {
            throw fatal;
        }

        Drain(events, stop);
        cancellationToken.ThrowIfCancellationRequested();
    }

    // A worker runs the attempts of samples in retry whose backoff has ended before it takes a new sample, and
    // stays until no sample is left in flight or in retry.
    private void Work(ISampleProcessorFactory factory, BlockingCollection<(Sample Sample, int Previous)> work, AutoResetEvent taken, BlockingCollection<RunEvent> events, ref int inFlight, CancellationToken stop)
    {
        ISampleProcessor? processor = null;
        try
        {
            processor = factory.CreateWorker(record => events.Add(RunEvent.Streamed(record)));
            while (true)
            {
                if (stop.IsCancellationRequested)
                {
                    // The run is stopping: the samples handed over stay pending, and so do those in retry.
                    foreach (var abandoned in work.GetConsumingEnumerable())
                    {
                        Interlocked.Decrement(ref inFlight);
                    }

                    break;
                }

                if (_runner.Retries.RunNext(processor, TimeSpan.Zero))
                {
                    continue;
                }

                if (work.IsCompleted)
                {
                    if (Volatile.Read(ref inFlight) == 0 && _runner.Retries.Waiting == 0)
                    {
                        break;
                    }

                    _runner.Retries.RunNext(processor, s_pollInterval);
                    continue;
                }

                if (!work.TryTake(out (Sample Sample, int Previous) item, s_retryPoll))
                {
                    continue;
                }

                (Sample sample, int previous) = item;
                taken.Set();
                try
                {
                    if (!_gate.MayStart())
                    {
                        _tally.NotStartedOne();
                    }
                    else if (_breaker.State == OutageBreaker.BreakerState.Open)
                    {
                        // The API was taken to be down after this sample was handed over: it does not start (a
                        // paid call into an outage), and the pass after the outage tries it.
                        events.Add(RunEvent.Finished(null, null, givenUp: false, abandoned: sample));
                    }
                    else if (!stop.IsCancellationRequested)
                    {
                        _runner.Run(sample, previous, processor, stop);
                    }
                }
                catch (OperationCanceledException)
                {
                    // The run is stopping: the sample stays pending.
                }
                catch (Exception e)
                {
                    events.Add(RunEvent.Fatal(e));
                }
                finally
                {
                    Interlocked.Decrement(ref inFlight);
                }
            }
        }
        catch (Exception e)
        {
            events.Add(RunEvent.Fatal(e));
            foreach (var abandoned in work.GetConsumingEnumerable())
            {
                Interlocked.Decrement(ref inFlight);
            }
        }
        finally
        {
            processor?.Dispose();
        }
    }

    private void Drain(BlockingCollection<RunEvent> events, CancellationTokenSource stop, bool throwOnFatal = true)
    {
        while (events.TryTake(out RunEvent? e))
        {
            Take(e, stop, throwOnFatal);
        }

        _progress.Report();
    }

    private void DrainUntilIdle(BlockingCollection<RunEvent> events, ref int inFlight, CancellationTokenSource stop, bool throwOnFatal = true)
    {
        // Once the run is stopping, no worker takes a retry any more: those are abandoned after the workers end.
        while (Volatile.Read(ref inFlight) > 0 || (_runner.Retries.Waiting > 0 && !stop.IsCancellationRequested))
        {
            if (events.TryTake(out RunEvent? e, s_pollInterval))
            {
                Take(e, stop, throwOnFatal);
            }

            _progress.Report();
        }

        Drain(events, stop, throwOnFatal);
    }

    // A worker's fatal error stops the others and goes up to the caller: at once, or while the workers end,
    // once they have (unless another error is on its way up already). Any other event is delivered.
    private void Take(RunEvent e, CancellationTokenSource stop, bool throwOnFatal)
    {
        if (e.Kind != RunEventKind.Fatal)
        {
            _delivery.Deliver(e);
            return;
        }

        stop.Cancel();
        if (throwOnFatal)
        {
            throw e.Error!;
        }

        _endingFatal ??= e.Error;
    }
}
