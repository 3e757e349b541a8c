using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using Checkpoint.Datasets;
using Checkpoint.Store;

namespace Checkpoint.Runs;

/// <summary>
/// One execution of a run on an open store: passes of the pending samples through a dispatcher (inline on the
/// caller's thread, or parallel), then of those an outage left pending; and at the end the final state and the
/// summary. Everything the observer sees is delivered on the caller's thread.
/// </summary>
internal sealed class RunSession
{
    // Passes over the samples an outage left pending, after the pass over the dataset.
    private const int MaxOutagePasses = 5;

    private readonly RunPlan _plan;
    private readonly RunDefinition _definition;
    private readonly CheckpointStore _store;
    private readonly CheckpointIndex? _others;
    private readonly DatasetInfo _dataset;
    private readonly IRunObserver _observer;
    private readonly Stopwatch _clock;
    private readonly SampleSelection _selection;
    private readonly OutageBreaker _breaker;
    private readonly SampleRunner _runner;
    private readonly RunTally _tally = new();
    private readonly StartGate _gate;
    private readonly ProgressReporter _progress;
    private readonly OutageWaiter _outage;
    private readonly EventDelivery _delivery;
    private readonly RateGovernor _governor;
    private bool _cancelled;

    /// <param name="plan">The run's plan.</param>
    /// <param name="store">The run's part, open for writing.</param>
    /// <param name="others">The run's other parts (other shards, or the unsharded files) as they were when it began.</param>
    /// <param name="dataset">The dataset as its scan found it.</param>
    /// <param name="observer">Hears what the run does, on the caller's thread.</param>
    /// <param name="clock">Started when the run began.</param>
    public RunSession(RunPlan plan, CheckpointStore store, CheckpointIndex? others, DatasetInfo dataset, IRunObserver observer, Stopwatch clock)
    {
        _plan = plan;
        _definition = plan.Definition;
        _store = store;
        _others = others;
        _dataset = dataset;
        _observer = observer;
        _clock = clock;
        _selection = new SampleSelection(plan, store, others);
        _breaker = new OutageBreaker(_definition.MaxConsecutiveFailures);
        _governor = new RateGovernor(_definition, store.Files.RunId);
        _runner = new SampleRunner(plan, store, _breaker, _governor);
        _delivery = new EventDelivery(_tally, observer);
        _gate = new StartGate(_definition.MaxCost, () => _store.TotalCost + (_others?.Usage.Cost ?? 0), observer);
        _progress = new ProgressReporter(store, dataset.IncludedCount, _tally, observer, clock, _governor);
        _outage = new OutageWaiter(_breaker, _definition, store.Files.RunId, observer, _progress);
    }

    /// <summary>True when the run was stopped before it read the whole dataset.</summary>
    public bool Cancelled
    {
        get => _cancelled || _gate.OutputClosed;
        set => _cancelled = value;
    }

    /// <summary>
    /// Runs the pending samples of the dataset: on the caller's thread when the factory offers an inline
    /// processor, else on worker threads; then, while an outage left some pending and the API answers again,
    /// those once more.
    /// </summary>
    public void Run(ISampleProcessorFactory factory, CancellationToken cancellationToken)
    {
        ISampleProcessor? inline = _definition.RunsInline ? factory.CreateInline() : null;
        try
        {
            IEnumerable<(Sample Sample, SampleEntry? Entry)> source = _selection.Pending(_tally, _observer.Verbose, cancellationToken);
            for (int pass = 0; ; pass++)
            {
                if (inline is not null)
                {
                    new InlineDispatch(_runner, _store, _tally, _gate, _outage, _progress, _delivery, queueRecords: _definition.MaxCost is null).Run(inline, source, cancellationToken);
                }
                else
                {
                    new ParallelDispatch(_runner, _breaker, _tally, _gate, _outage, _progress, _delivery, _definition.ThrottleLimit).Run(factory, source, cancellationToken);
                }

                if (_delivery.Abandoned.Count == 0 || _gate.BudgetReached || Cancelled || cancellationToken.IsCancellationRequested || pass == MaxOutagePasses)
                {
                    break;
                }

                _observer.Verbose(string.Format(CultureInfo.InvariantCulture, "Trying again {0} samples that an API outage left pending.", _delivery.Abandoned.Count));
                List<Sample> retry = _delivery.Abandoned.ToList();
                _delivery.Abandoned.Clear();
                _tally.RetryPass = true;
                source = retry.Select(s => (s, _store.Entry(s.Id)));
            }

            // A streak of failures the run ended in never opened the breaker: the samples whose retries it used
            // up failed for good, unless the run was stopped before it could tell.
            _runner.Sink = _delivery.Deliver;
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
            _governor.Dispose();
        }
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
                _definition.MaxConsecutiveFailures));
        }

        if (_tally.SkippedUntold() is string skipped)
        {
            _observer.Verbose(skipped);
        }

        Cancelled |= cancellationToken.IsCancellationRequested;
        if (fatal is null && !Cancelled && _tally.NotStarted > 0)
        {
            // Workers left samples unstarted because the budget was spent after the last one was handed over.
            _gate.CheckBudget();
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

        if (Cancelled || fatal is not null || _gate.BudgetReached || changedUnderRun)
        {
            // The dataset was not read to its end, or not as it was counted: count from the checkpoint instead.
            (int completed, int failed) = _selection.CountRecorded();
            _tally.Completed = Math.Min(completed, total);
            _tally.Failed = Math.Min(failed, total - _tally.Completed);
        }

        // An unsharded run counts the samples its other parts (the shards it finishes) completed, so it counts
        // their cost too; a shard counts its own.
        UsageTotals own = _store.Index.Usage;
        UsageTotals? others = _definition.Shard is null ? _others?.Usage : null;
        RunTotals totals = RunTotals.OfDataset(
            total,
            _tally.Completed,
            _tally.Failed,
            own.InputTokens + (others?.InputTokens ?? 0),
            own.OutputTokens + (others?.OutputTokens ?? 0),
            own.Cost + (others?.Cost ?? 0),
            own.CacheHits + (others?.CacheHits ?? 0),
            own.CachedCost + (others?.CachedCost ?? 0));
        RunStatus final = totals.StatusAtEnd(interrupted: Cancelled, incomplete: fatal is not null || changedUnderRun, budgetReached: _gate.BudgetReached);
        _store.State.TotalSamples = total;
        if (fatal is CheckpointException { ErrorId: ErrorIds.CheckpointWriteFailed })
        {
            // The files cannot be trusted to take another write; release them as they are.
            _store.Dispose();
            throw fatal;
        }

        _store.Close(final);
        _progress.Finished();
        if (fatal is not null)
        {
            throw fatal;
        }

        decimal average = totals.CostPerCompleted ?? _plan.EstimatedCostPerSample ?? 0;
        return new RunSummary
        {
            InputTokens = totals.InputTokens,
            OutputTokens = totals.OutputTokens,
            TotalCost = totals.Cost,
            CacheHits = totals.CacheHits,
            CachedCost = totals.CachedCost,
            AverageCostPerSample = decimal.Round(average, 6),
            EstimatedRemainingCost = totals.RemainingCost(average),
            RunId = _store.Files.RunId,
            Dataset = _dataset.Path,
            Model = _definition.Model,
            Shard = _definition.Shard?.ToString() ?? string.Empty,
            TotalSamples = total,
            CompletedSamples = totals.Completed,
            FailedSamples = totals.Failed,
            PendingSamples = totals.Pending,
            ProcessedThisRun = _tally.Processed - _tally.NotStarted,
            SkippedThisRun = _tally.Skipped,
            Duration = _clock.Elapsed,
            Status = final.ToString(),
            OutputDirectory = _store.Files.Directory,
            Path = _store.Files.ResultsPath,
            RateLimitedCount = _governor.RateLimitedCount,
            Concurrency = _governor.Concurrency,
        };
    }
}
