using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading;
using Checkpoint.Datasets;
using Checkpoint.Store;

namespace Checkpoint.Runs;

/// <summary>
/// One execution of a run: the dispatch loop (inline on the caller's thread, or feeding worker threads), the
/// outage waits and probes, the counts, and the final state. Everything the observer sees is delivered on
/// the caller's thread.
/// </summary>
internal sealed class RunSession
{
    private const int SkipMessagesShown = 3;

    // Passes over the samples an outage left pending, after the pass over the dataset.
    private const int MaxOutagePasses = 5;
    private static readonly TimeSpan s_progressInterval = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan s_pollInterval = TimeSpan.FromMilliseconds(50);

    private readonly RunEngine _engine;
    private readonly RunPlan _plan;
    private readonly CheckpointStore _store;
    private readonly CheckpointIndex? _others;
    private readonly DatasetInfo _dataset;
    private readonly IRunObserver _observer;
    private readonly Stopwatch _clock;
    private readonly OutageBreaker _breaker;
    private readonly SampleRunner _runner;
    private readonly Counts _counts = new();
    private readonly List<Sample> _abandoned = new();
    private readonly Stopwatch _lastProgress = Stopwatch.StartNew();
    private DateTimeOffset? _outageStart;
    private TimeSpan _outageWait;
    private string? _waiting;
    private int _checkpointsSeen;

    // Set once no new sample may start (the budget is spent, or nobody wants more results): a sample already
    // handed to a worker but not started is then left pending, and counted here, as it was counted processed.
    private volatile bool _startsStopped;
    private int _notStarted;

    // Set for the passes that try again the samples an outage left pending: they were counted as processed
    // in the first pass, so ProcessedThisRun counts each sample once.
    private volatile bool _retryPass;

    public RunSession(RunEngine engine, RunPlan plan, CheckpointStore store, CheckpointIndex? others, DatasetInfo dataset, IRunObserver observer, Stopwatch clock)
    {
        _engine = engine;
        _plan = plan;
        _store = store;
        _others = others;
        _dataset = dataset;
        _observer = observer;
        _clock = clock;
        _breaker = new OutageBreaker(plan.Definition.MaxConsecutiveFailures);
        _runner = new SampleRunner(plan, store, _breaker);
        _outageWait = plan.Definition.OutageWait;
        _checkpointsSeen = store.CheckpointsCompleted;
    }

    /// <summary>True when the run was stopped before it read the whole dataset.</summary>
    public bool Cancelled { get; set; }

    /// <summary>True when the run stopped because its cost reached -MaxCost.</summary>
    public bool BudgetReached { get; private set; }

    /// <summary>
    /// Runs the pending samples of the dataset: on the caller's thread when the factory offers an inline
    /// processor, else on worker threads; then, while an outage left some pending and the API answers again,
    /// those once more.
    /// </summary>
    public void Run(ISampleProcessorFactory factory, CancellationToken cancellationToken)
    {
        ISampleProcessor? inline = _plan.Definition.RunsInline ? factory.CreateInline() : null;
        try
        {
            IEnumerable<(Sample Sample, int PreviousAttempts)> source = PendingSamples(cancellationToken);
            for (int pass = 0; ; pass++)
            {
                if (inline is not null)
                {
                    RunInline(inline, source, cancellationToken);
                }
                else
                {
                    RunParallel(factory, source, cancellationToken);
                }

                if (_abandoned.Count == 0 || BudgetReached || Cancelled || cancellationToken.IsCancellationRequested || pass == MaxOutagePasses)
                {
                    break;
                }

                _observer.Verbose(string.Format(CultureInfo.InvariantCulture, "Trying again {0} samples that an API outage left pending.", _abandoned.Count));
                List<Sample> retry = _abandoned.ToList();
                _abandoned.Clear();
                _retryPass = true;
                source = retry.Select(s => (s, _store.Entry(s.Id)?.Attempt ?? 0));
            }

            // A streak of failures the run ended in never opened the breaker: the samples whose retries it used
            // up failed for good, unless the run was stopped before it could tell.
            _runner.Sink = Deliver;
            _breaker.SettleHeld(pending: Cancelled || cancellationToken.IsCancellationRequested);
        }
        catch
        {
            // Stopped or failed: a verdict still held is not known, so those samples stay pending, their last
            // attempts recorded when the store still takes records.
            _runner.Sink = _ => { };
            try
            {
                _breaker.SettleHeld(pending: true);
            }
            catch (Exception e) when (e is CheckpointException or IOException or ObjectDisposedException)
            {
                // The error that brought us here is the one to report.
            }

            throw;
        }
        finally
        {
            inline?.Dispose();
        }
    }

    // The block runs on this thread; its records are written on the queue's thread meanwhile, except under
    // -MaxCost, whose budget check needs every record counted before the next sample starts.
    private void RunInline(ISampleProcessor processor, IEnumerable<(Sample Sample, int PreviousAttempts)> source, CancellationToken cancellationToken)
    {
        var events = new ConcurrentQueue<RunEvent>();
        _runner.Sink = events.Enqueue;
        var queue = _plan.Definition.MaxCost is null ? new RecordQueue(_store) : null;
        _runner.Queue = queue;
        void DeliverQueued()
        {
            while (events.TryDequeue(out RunEvent? e))
            {
                Deliver(e);
            }
        }

        try
        {
            foreach ((Sample sample, int previousAttempts) in source)
            {
                if (CheckBudget() || CheckOutputClosed())
                {
                    break;
                }

                WaitOutOutage(() => queue?.Flush(), cancellationToken);
                _counts.Processed += _retryPass ? 0 : 1;
                _runner.Run(sample, previousAttempts, processor, cancellationToken);
                DeliverQueued();
                ReportProgress();
            }
        }
        finally
        {
            // Whatever ends the loop, the results already made are written before the store closes.
            _runner.Queue = null;
            queue?.Dispose();
        }

        if (queue?.Failure is Exception failure)
        {
            throw failure;
        }

        DeliverQueued();
    }

    private void RunParallel(ISampleProcessorFactory factory, IEnumerable<(Sample Sample, int PreviousAttempts)> source, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var work = new BlockingCollection<(Sample Sample, int Previous)>(_plan.Definition.ThrottleLimit);
        using var events = new BlockingCollection<RunEvent>();
        // Set by a worker each time it takes a sample: the dispatcher waits on it, not in the collection's
        // own blocking add, which spins the CPU that the workers need before it sleeps.
        using var taken = new AutoResetEvent(false);
        int inFlight = 0;
        _runner.Sink = events.Add;
        var workers = new List<Thread>();
        for (int i = 0; i < _plan.Definition.ThrottleLimit; i++)
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
            foreach ((Sample, int) item in source)
            {
                if (CheckBudget() || CheckOutputClosed())
                {
                    break;
                }

                WaitOutOutage(() => DrainUntilIdle(events, ref inFlight, stop), cancellationToken);
                // Counted before it is handed over (a worker may finish it at once), and uncounted if the
                // hand-over never happens because the run is stopping.
                Interlocked.Increment(ref inFlight);
                bool added = false;
                try
                {
                    while (!(added = work.TryAdd(item)))
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

                _counts.Processed += _retryPass ? 0 : 1;

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
            }

            Drain(events, stop, throwOnFatal: false);
        }

        Drain(events, stop);
        cancellationToken.ThrowIfCancellationRequested();
    }

    /// <summary>Closes the store with <paramref name="status"/>, when it can; for the error paths.</summary>
    public void TryClose(RunStatus status)
    {
        try
        {
            _store.Close(status);
        }
        catch (Exception e) when (e is CheckpointException or IOException or ObjectDisposedException)
        {
            // The error that brought us here is the one to report.
        }
    }

    /// <summary>Closes the store with the run's final status and makes the summary.</summary>
    public RunSummary Finish(Exception? fatal, CancellationToken cancellationToken)
    {
        if (fatal is null && !Cancelled && _breaker.State != OutageBreaker.BreakerState.Closed)
        {
            // The outage began with no sample left to start, so there was nothing to wait for and probe with.
            _observer.Warning(string.Format(
                CultureInfo.InvariantCulture,
                "The run ended while the API looked down ({0} transient failures in a row): the samples that failed then are pending. Resume-CheckpointRun finishes them once the API is back.",
                _plan.Definition.MaxConsecutiveFailures));
        }

        if (_counts.Skipped > SkipMessagesShown)
        {
            _observer.Verbose(string.Format(CultureInfo.InvariantCulture, "... (skipping {0} more completed samples)", _counts.Skipped - SkipMessagesShown));
        }

        Cancelled |= cancellationToken.IsCancellationRequested;
        if (fatal is null && !Cancelled && Volatile.Read(ref _notStarted) > 0)
        {
            // Workers left samples unstarted because the budget was spent after the last one was handed over.
            CheckBudget();
        }

        int total = _dataset.IncludedCount;
        // Rows added, removed or moved while the run read them: what was read is not the dataset that was
        // counted, so the counts come from the checkpoint, and only a resume can tell whether the run is done.
        bool changedUnderRun = _dataset.Fingerprint.LastWriteTicks != 0 && !_dataset.Fingerprint.LooksUnchanged(_dataset.Path);
        if (changedUnderRun)
        {
            _observer.Warning(string.Format(
                CultureInfo.InvariantCulture,
                "The dataset '{0}' changed while the run read it: the counts are of the {1} samples it had when the run began, and the run ends Incomplete. Resume it to read the dataset as it is now; completed samples are skipped.",
                _dataset.Path,
                total));
        }

        if (Cancelled || fatal is not null || BudgetReached || changedUnderRun)
        {
            // The dataset was not read to its end, or not as it was counted: count from the checkpoint instead.
            (int completed, int failed) = CountFromCheckpoint();
            _counts.Completed = Math.Min(completed, total);
            _counts.Failed = Math.Min(failed, total - _counts.Completed);
        }

        RunStatus final = Cancelled ? RunStatus.Interrupted
            : fatal is not null || changedUnderRun ? RunStatus.Incomplete
            : _counts.Completed == total ? RunStatus.Completed
            : BudgetReached ? RunStatus.BudgetReached
            : RunStatus.Incomplete;
        _store.State.TotalSamples = total;
        if (fatal is CheckpointException { ErrorId: ErrorIds.CheckpointWriteFailed })
        {
            // The files cannot be trusted to take another write; release them as they are.
            _store.Dispose();
            throw fatal;
        }

        _store.Close(final);
        _observer.Verbose(string.Format(CultureInfo.InvariantCulture, "Checkpoint saved: {0} completed, {1} errors", _store.Index.CompletedCount, _store.Index.ErrorCount));
        _observer.Progress(MakeProgress(finished: true));
        if (fatal is not null)
        {
            throw fatal;
        }

        // An unsharded run counts the samples its other parts (the shards it finishes) completed, so it counts
        // their cost too; a shard counts its own.
        UsageTotals? others = _plan.Definition.Shard is null ? _others?.Usage : null;
        decimal totalCost = _store.Index.Usage.Cost + (others?.Cost ?? 0);
        int pending = total - _counts.Completed - _counts.Failed;
        decimal average = _counts.Completed > 0 ? totalCost / _counts.Completed : _plan.EstimatedCostPerSample ?? 0;
        return new RunSummary
        {
            InputTokens = _store.Index.Usage.InputTokens + (others?.InputTokens ?? 0),
            OutputTokens = _store.Index.Usage.OutputTokens + (others?.OutputTokens ?? 0),
            TotalCost = totalCost,
            AverageCostPerSample = decimal.Round(average, 6),
            EstimatedRemainingCost = decimal.Round(average * (pending + _counts.Failed), 6),
            RunId = _store.Files.RunId,
            Dataset = _dataset.Path,
            Model = _plan.Definition.Model,
            Shard = _plan.Definition.Shard?.ToString() ?? string.Empty,
            TotalSamples = total,
            CompletedSamples = _counts.Completed,
            FailedSamples = _counts.Failed,
            PendingSamples = total - _counts.Completed - _counts.Failed,
            ProcessedThisRun = _counts.Processed - Volatile.Read(ref _notStarted),
            SkippedThisRun = _counts.Skipped,
            Duration = _clock.Elapsed,
            Status = final.ToString(),
            OutputDirectory = _store.Files.Directory,
            Path = _store.Files.ResultsPath,
        };
    }

    // The samples of the plan's shard (all, unsharded) whose winning record, in this part or another, is
    // completed or failed for good.
    private (int Completed, int Failed) CountFromCheckpoint()
    {
        if (_others is null)
        {
            return (_store.Index.CompletedCount, _store.Index.FailedCount);
        }

        int completed = 0, failed = 0;
        foreach (string id in _store.Index.Samples.Keys.Union(_others.Samples.Keys))
        {
            if (!_engine.InShard(id))
            {
                continue;
            }

            SampleEntry? entry = RunEngine.Winning(_store.Entry(id), _others, id);
            completed += entry?.Status == RecordStatus.Completed ? 1 : 0;
            failed += entry?.IsFailed == true ? 1 : 0;
        }

        return (completed, failed);
    }

    // The samples of the dataset (and shard) to process now, in file order; counts and skips the rest.
    private IEnumerable<(Sample Sample, int PreviousAttempts)> PendingSamples(CancellationToken cancellationToken)
    {
        // A resumed run reads its done rows by id alone (a fresh run has none to skip, so it asks nothing).
        // The reader asks about a row just before it hands the row over, so the entry it was answered from
        // is kept for that row: one lookup in the index per row instead of two.
        string? askedId = null;
        SampleEntry? askedEntry = null;
        Func<string, bool>? mayRun = _store.Index.Samples.Count > 0 || _others is not null
            ? [MethodImpl(JitOptions.Optimized)] (id) =>
            {
                if (!_engine.InShard(id))
                {
                    return false;
                }

                askedId = id;
                askedEntry = RunEngine.Winning(_store.Entry(id), _others, id);
                return _engine.ShouldProcess(askedEntry);
            }
            : null;
        foreach (Sample sample in DatasetReader.Read(_plan.Definition.DatasetPath, _plan.Definition.IdColumn, mayRun))
        {
            // The very string the reader asked about: in the shard, and its entry is known.
            bool asked = ReferenceEquals(sample.Id, askedId);
            if (!asked && !_engine.InShard(sample.Id))
            {
                continue;
            }

            SampleEntry? entry = asked ? askedEntry : RunEngine.Winning(_store.Entry(sample.Id), _others, sample.Id);
            bool limitReached = _plan.Limit is int limit && _counts.Processed >= limit;
            if (limitReached || !_engine.ShouldProcess(entry))
            {
                _counts.Count(entry?.Status, entry?.IsFailed ?? false);
                if (entry?.Status == RecordStatus.Completed && !_plan.NoResume)
                {
                    _counts.Skipped++;
                    if (_counts.Skipped <= SkipMessagesShown)
                    {
                        _observer.Verbose("Skipping completed sample: " + sample.Id);
                    }
                }

                continue;
            }

            cancellationToken.ThrowIfCancellationRequested();
            yield return (sample, entry?.Attempt ?? 0);
        }
    }

    // The cost of the whole run: this part's records, and those of its other parts (shards, or the unsharded
    // files) as they were when the run began.
    private decimal RunCost => _store.TotalCost + (_others?.Usage.Cost ?? 0);

    // -MaxCost: once the run's total cost reaches the budget, no new sample starts.
    private bool CheckBudget()
    {
        if (BudgetReached)
        {
            return true;
        }

        if (_plan.Definition.MaxCost is not decimal budget || RunCost < budget)
        {
            return false;
        }

        BudgetReached = true;
        _startsStopped = true;
        _observer.Warning(string.Format(
            CultureInfo.InvariantCulture,
            "The run's cost reached the budget: {0:0.######} of -MaxCost {1:0.######}. No new sample starts; every result is kept. Resume it with a higher -MaxCost to go on.",
            RunCost,
            budget));
        return true;
    }

    // Whatever takes the results wants no more: the run stops starting samples and ends Interrupted.
    private bool CheckOutputClosed()
    {
        if (!_observer.OutputClosed)
        {
            return false;
        }

        _startsStopped = true;
        if (!Cancelled)
        {
            Cancelled = true;
            _observer.Verbose("The pipeline wants no more results: no new sample starts, and the run ends Interrupted.");
        }

        return true;
    }

    private void Deliver(RunEvent e)
    {
        switch (e.Kind)
        {
            case RunEventKind.Verbose:
                _observer.Verbose(e.Message!);
                break;
            case RunEventKind.Finished:
                _counts.Count(e.FinalStatus, e.GivenUp);
                if (e.Abandoned is not null)
                {
                    _abandoned.Add(e.Abandoned);
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

    private void Work(ISampleProcessorFactory factory, BlockingCollection<(Sample Sample, int Previous)> work, AutoResetEvent taken, BlockingCollection<RunEvent> events, ref int inFlight, CancellationToken stop)
    {
        ISampleProcessor? processor = null;
        try
        {
            processor = factory.CreateWorker(record => events.Add(RunEvent.Streamed(record)));
            foreach ((Sample sample, int previous) in work.GetConsumingEnumerable())
            {
                taken.Set();
                try
                {
                    // The worker looks at the budget itself: after the samples in flight finish together, the
                    // dispatcher would see it spent only once the workers had taken the next ones.
                    if (_startsStopped || (_plan.Definition.MaxCost is decimal budget && RunCost >= budget))
                    {
                        _startsStopped = true;
                        if (!_retryPass)
                        {
                            Interlocked.Increment(ref _notStarted);
                        }
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
            if (e.Kind == RunEventKind.Fatal)
            {
                stop.Cancel();
                if (throwOnFatal)
                {
                    throw e.Error!;
                }

                continue;
            }

            Deliver(e);
        }

        ReportProgress();
    }

    private void DrainUntilIdle(BlockingCollection<RunEvent> events, ref int inFlight, CancellationTokenSource stop, bool throwOnFatal = true)
    {
        while (Volatile.Read(ref inFlight) > 0)
        {
            if (events.TryTake(out RunEvent? e, s_pollInterval))
            {
                if (e.Kind == RunEventKind.Fatal)
                {
                    stop.Cancel();
                    if (throwOnFatal)
                    {
                        throw e.Error!;
                    }

                    continue;
                }

                Deliver(e);
            }

            ReportProgress();
        }

        Drain(events, stop, throwOnFatal);
    }

    // While the breaker is open: wait (30 s, doubling), then let one probe through; past -MaxOutageMinutes,
    // stop the run with ApiOutage. waitForIdle lets in-flight samples finish (and abandon) first.
    private void WaitOutOutage(Action waitForIdle, CancellationToken cancellationToken)
    {
        if (_breaker.State == OutageBreaker.BreakerState.Closed)
        {
            if (_outageStart is not null)
            {
                _observer.Verbose("The API answers again: the outage is over.");
                _outageStart = null;
                _outageWait = _plan.Definition.OutageWait;
                _waiting = null;
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
                _plan.Definition.MaxConsecutiveFailures,
                _outageWait.TotalSeconds,
                _plan.Definition.MaxOutage.TotalMinutes));
        }
        else
        {
            _outageWait = TimeSpan.FromTicks(Math.Min(_outageWait.Ticks * 2, TimeSpan.FromDays(1).Ticks));
        }

        DateTimeOffset deadline = _outageStart.Value + _plan.Definition.MaxOutage;
        if (now >= deadline)
        {
            throw new CheckpointException(
                ErrorIds.ApiOutage,
                string.Format(
                    CultureInfo.InvariantCulture,
                    "The API has been failing for {0:0.#} min (-MaxOutageMinutes {1:0.#}). The run stopped; every result is kept and the samples that failed during the outage are pending. Resume-CheckpointRun finishes them once the API is back.",
                    (now - _outageStart.Value).TotalMinutes,
                    _plan.Definition.MaxOutage.TotalMinutes))
            { Target = _store.Files.RunId };
        }

        TimeSpan wait = _outageWait < deadline - now ? _outageWait : deadline - now;
        _observer.Verbose(string.Format(CultureInfo.InvariantCulture, "API outage: waiting {0:0.#} s before probing with one sample.", wait.TotalSeconds));
        DateTimeOffset until = now + wait;
        while (DateTimeOffset.UtcNow < until)
        {
            _waiting = string.Format(CultureInfo.InvariantCulture, "API outage: probing in {0:0} s", (until - DateTimeOffset.UtcNow).TotalSeconds);
            ReportProgress(force: true);
            TimeSpan left = until - DateTimeOffset.UtcNow;
            if (cancellationToken.WaitHandle.WaitOne(left < TimeSpan.FromSeconds(1) ? (left > TimeSpan.Zero ? left : TimeSpan.Zero) : TimeSpan.FromSeconds(1)))
            {
                cancellationToken.ThrowIfCancellationRequested();
            }
        }

        _waiting = "API outage: probing";
        _breaker.StartProbe();
    }

    private void ReportProgress(bool force = false)
    {
        int checkpoints = _store.CheckpointsCompleted;
        if (checkpoints != _checkpointsSeen)
        {
            _checkpointsSeen = checkpoints;
            _observer.Verbose(string.Format(CultureInfo.InvariantCulture, "Checkpoint saved: {0} completed, {1} errors", _store.State.CompletedSamples, _store.State.ErrorCount));
        }

        if (!force && _lastProgress.Elapsed < s_progressInterval)
        {
            return;
        }

        _observer.Progress(MakeProgress(finished: false));
        _lastProgress.Restart();
    }

    private RunProgress MakeProgress(bool finished)
    {
        int total = _dataset.IncludedCount;
        double seconds = _clock.Elapsed.TotalSeconds;
        double rate = seconds > 0 ? _counts.Processed / seconds : 0;
        int left = Math.Max(0, total - _store.Index.CompletedCount);
        TimeSpan? remaining = rate > 0 ? TimeSpan.FromSeconds(left / rate) : null;
        return new RunProgress(_store.Files.RunId, total, Math.Min(total, _store.Index.CompletedCount), _store.Index.FailedCount, _counts.Processed, rate, remaining, finished, finished ? null : _waiting);
    }

    private sealed class Counts
    {
        public int Processed { get; set; }

        public int Skipped { get; set; }

        public int Completed { get; set; }

        public int Failed { get; set; }

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
    }
}
