using System;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using Checkpoint.Datasets;
using Checkpoint.Store;
using Polly;
using Polly.Retry;
using Polly.Timeout;
using Checkpoint.Security;

namespace Checkpoint.Runs;

/// <summary>
/// Runs one sample to its end: a first attempt, and when it failed in a way that may be retried, the
/// retries in a Polly pipeline (exponential backoff and jitter, Retry-After honoured and capped), each
/// attempt under an optional Polly timeout, every attempt recorded through the store's single writer. A
/// failed attempt that will be retried, or that is abandoned (run stopping, API outage), is recorded as not
/// final, so the sample stays pending; only a permanent error or exhausted retries record a final failure.
/// Retries used up by a transient failure are the outage's when that failure's streak goes on to open the
/// breaker, so the last record of such a sample waits for the streak's end (see <see cref="OutageBreaker.Hold"/>).
/// Safe to use from several worker threads at once.
/// </summary>
internal sealed class SampleRunner
{
    private const int RateLimitedStatus = 429;

    private static readonly ResiliencePropertyKey<Attempt> s_attemptKey = new("checkpoint.attempt");

    private readonly RunPlan _plan;
    private readonly RunDefinition _definition;
    private readonly CheckpointStore _store;
    private readonly OutageBreaker _breaker;
    private readonly SecretMasker _masker;
    // Built when a first attempt fails in a way that may be retried. Most samples never need it, and in a
    // fresh process building and running it is code compiled for the first time (docs/performance.md).
    private readonly Lazy<ResiliencePipeline<SampleOutcome>> _retry;
    private readonly ResiliencePipeline? _timeout;

    private readonly RateGovernor _governor;

    public SampleRunner(RunPlan plan, CheckpointStore store, OutageBreaker breaker, RateGovernor governor)
    {
        _plan = plan;
        _definition = plan.Definition;
        _store = store;
        _breaker = breaker;
        _governor = governor;
        _masker = new SecretMasker(_definition.Config);
        _retry = new Lazy<ResiliencePipeline<SampleOutcome>>(NewRetryPipeline);
        _timeout = _definition.Timeout is TimeSpan limit ? new ResiliencePipelineBuilder().AddTimeout(limit).Build() : null;
    }

    /// <summary>Where verbose messages and finished samples go.</summary>
    public Action<RunEvent> Sink { get; set; } = _ => { };

    /// <summary>
    /// When set, the last record of a sample whose last attempt took less than <see cref="QueuedBelow"/> is
    /// written through this queue, and the sample is reported finished from the queue's thread once the record
    /// is written; otherwise both happen before <see cref="Run"/> returns.
    /// </summary>
    public RecordQueue? Queue { get; set; }

    /// <summary>
    /// How fast a sample must be for its record to go through <see cref="Queue"/>: the write is then a large
    /// part of the sample's cost, and another such sample started before it is reported costs next to nothing.
    /// </summary>
    public static TimeSpan QueuedBelow { get; } = TimeSpan.FromMilliseconds(1);

    /// <summary>The attempts of samples in retry, which the dispatcher's workers run before new samples.</summary>
    public RetryQueue Retries { get; } = new();

    /// <summary>
    /// Makes the first attempt at <paramref name="sample"/>. When it failed in a way that may be retried, the
    /// retries go on without this thread: each waits out its backoff on a timer and is then queued on
    /// <see cref="Retries"/>. Throws <see cref="OperationCanceledException"/> when the run stops (the sample
    /// stays pending). A sample is reported finished once its last attempt is recorded; one whose retries a
    /// transient failure used up, once its streak of failures ends, from the thread that ends it or from
    /// <see cref="OutageBreaker.SettleHeld"/>.
    /// </summary>
    [MethodImpl(JitOptions.Optimized)]
    public void Run(Sample sample, int previousAttempts, ISampleProcessor processor, CancellationToken cancellationToken)
    {
        var attempt = new Attempt(this, sample, processor, previousAttempts);
        SampleOutcome outcome = RunAttempt(attempt, cancellationToken);
        if (ShouldRetry(attempt, outcome))
        {
            Retry(attempt, outcome, cancellationToken);
        }
        else
        {
            Conclude(attempt, outcome, cancellationToken);
        }
    }

    // The verdict on a sample whose attempts are over.
    private void Conclude(Attempt attempt, SampleOutcome outcome, CancellationToken cancellationToken)
    {
        if (outcome.Succeeded || !outcome.Transient)
        {
            Finish(attempt, outcome, pending: false);
        }
        else if (cancellationToken.IsCancellationRequested)
        {
            Finish(attempt, outcome, pending: true, tryAgain: false);
        }
        else if (!_breaker.AllowsRetry || outcome.HttpStatus == RateLimitedStatus)
        {
            // Retries cut short by an outage, or used up by a server pushing back: the sample is not at fault.
            Finish(attempt, outcome, pending: true);
        }
        else
        {
            HoldVerdict(attempt, outcome);
        }
    }

    // Retries used up by a transient failure: they were the outage's if the failure's streak goes on to open
    // the breaker, which the breaker tells once the streak ends (at once, when it has ended already).
    private void HoldVerdict(Attempt attempt, SampleOutcome outcome)
    {
        if (_breaker.Hold(attempt.Streak, outage => Finish(attempt, outcome, pending: outage)) is bool outage)
        {
            Finish(attempt, outcome, pending: outage);
        }
    }

    // Records the last attempt of a sample and reports the sample finished: failed for good or completed, or
    // left pending (to be tried again after the outage unless the run is stopping).
    [MethodImpl(JitOptions.Optimized)]
    private void Finish(Attempt attempt, SampleOutcome outcome, bool pending, bool tryAgain = true)
    {
        (CheckpointRecord record, string? errorContext) = NewRecord(attempt, outcome, final: !pending, pending ? " (left pending)" : string.Empty);
        RecordStatus? status = pending ? null : record.Status;
        Sample? toRetry = pending && tryAgain ? attempt.Sample : null;
        void Finished() => Sink(RunEvent.Finished(
            pending ? null : SampleResult.FromRecord(_store.Files.RunId, record),
            status,
            givenUp: status == RecordStatus.Failed,
            abandoned: toRetry));
        if (Queue is RecordQueue queue && attempt.Timer.Elapsed < QueuedBelow)
        {
            queue.Post(record, errorContext, Finished);
        }
        else
        {
            // A slow sample is reported before the next one starts, as a caller that stops the pipeline
            // after it (Select-Object -First) expects; the samples queued before it come first.
            Queue?.Flush();
            _store.Append(record, errorContext);
            Finished();
        }
    }

    // Whether an attempt that ended with this outcome gets another (while retries are left).
    // A 429 uses up none of the sample's -MaxRetries: the server pushed back, and the run's pause and lowered
    // concurrency answer it; only 429s for -MaxOutageMinutes end the run (see RateGovernor).
    private bool ShouldRetry(Attempt attempt, SampleOutcome? outcome) =>
        outcome is { Succeeded: false, Transient: true } && _breaker.AllowsRetry
        && (outcome.HttpStatus == RateLimitedStatus || attempt.Failures <= _definition.MaxRetries);

    // The retries after a first attempt that ended with <paramref name="first"/>: the pipeline is handed that
    // outcome as its first execution's, so that it counts, waits and records exactly as if it had run it. It
    // runs asynchronously: its backoff is a timer, and each later attempt is queued for a worker.
    private void Retry(Attempt attempt, SampleOutcome first, CancellationToken cancellationToken)
    {
        attempt.FirstOutcome = first;
        var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, Retries.Abandoned);
        ResilienceContext context = ResilienceContextPool.Shared.Get(stop.Token);
        context.Properties.Set(s_attemptKey, attempt);
        Retries.Begin();
        Task<SampleOutcome> retries;
        try
        {
            retries = _retry.Value.ExecuteAsync(
                static (ctx, a) => a.TakeFirstOutcome() is SampleOutcome first
                    ? new ValueTask<SampleOutcome>(first)
                    : new ValueTask<SampleOutcome>(a.Runner.Retries.Queue(processor => a.Runner.RunAttempt(a.On(processor), ctx.CancellationToken))),
                context,
                attempt).AsTask();
        }
        catch
        {
            Retries.End();
            stop.Dispose();
            ResilienceContextPool.Shared.Return(context);
            throw;
        }

        retries.ContinueWith(
            done =>
            {
                ResilienceContextPool.Shared.Return(context);
                stop.Dispose();
                try
                {
                    Conclude(attempt, done.GetAwaiter().GetResult(), cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    // The run is stopping, or the dispatch ended: the sample stays pending.
                }
                catch (Exception e)
                {
                    Retries.Fatal(e);
                }
                finally
                {
                    Retries.End();
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    private ResiliencePipeline<SampleOutcome> NewRetryPipeline() =>
        new ResiliencePipelineBuilder<SampleOutcome>()
            .AddRetry(new RetryStrategyOptions<SampleOutcome>
            {
                MaxRetryAttempts = int.MaxValue,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = _definition.RetryDelay,
                MaxDelay = _definition.MaxRetryDelay,
                ShouldHandle = args => new ValueTask<bool>(ShouldRetry(args.Context.Properties.GetValue(s_attemptKey, null!), args.Outcome.Result)),
                DelayGenerator = args => new ValueTask<TimeSpan?>(
                    args.Outcome.Result?.RetryAfter is TimeSpan asked ? (asked < _definition.MaxRetryDelay ? asked : _definition.MaxRetryDelay) : null),
                OnRetry = args =>
                {
                    Attempt attempt = args.Context.Properties.GetValue(s_attemptKey, null!);
                    (CheckpointRecord record, string? errorContext) = NewRecord(attempt, args.Outcome.Result!, final: false, $" (will retry in {args.RetryDelay.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s)");
                    _store.Append(record, errorContext);
                    return default;
                },
            })
            .Build();

    [MethodImpl(JitOptions.Optimized)]
    private SampleOutcome RunAttempt(Attempt attempt, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        attempt.Number++;
        var context = attempt.Context = new SampleContext(_store.Files.RunId, attempt.Sample.Id, attempt.Number, _definition.Model, _plan.BlockConfig ?? _definition.Config, _definition.Seed, _definition.Shard?.ToString());
        RateGovernor.Ticket ticket = _governor.Enter(cancellationToken);
        context.Rate = (_governor, ticket);
        context.Cancellation = cancellationToken;
        attempt.StartedAt = DateTimeOffset.UtcNow;
        attempt.Timer.Restart();
        SampleOutcome? outcome = null;
        try
        {
            outcome = _timeout is null
                ? attempt.Processor.Process(attempt.Sample, context, cancellationToken)
                : _timeout.Execute(static (s, token) => s.Attempt.Processor.Process(s.Attempt.Sample, s.Context, token), (Attempt: attempt, Context: context), cancellationToken);
        }
        catch (TimeoutRejectedException)
        {
            outcome = SampleOutcome.Failure(
                typeof(TimeoutException).FullName!,
                string.Format(CultureInfo.InvariantCulture, "The attempt took longer than {0} s (-TimeoutSeconds) and was stopped.", _definition.Timeout!.Value.TotalSeconds),
                transient: true);
        }
        finally
        {
            attempt.Timer.Stop();
            context.Rate = null;
            EndRate(ticket, context, outcome);
        }

        // A 429 is the server pushing back, not failing: it neither counts toward an outage nor ends one.
        if (outcome.HttpStatus == RateLimitedStatus)
        {
            attempt.Streak = _breaker.CurrentStreak;
        }
        else
        {
            attempt.Failures += outcome.Succeeded ? 0 : 1;
            attempt.Streak = _breaker.Report(!outcome.Succeeded && outcome.Transient);
        }

        return outcome;
    }

    // Usage found in the result counts toward -TokenRateLimit when the block reported none itself.
    private void EndRate(RateGovernor.Ticket ticket, SampleContext context, SampleOutcome? outcome)
    {
        if (_definition.TokenRateLimit is not null && outcome is { Succeeded: true } && context.InputTokens is null && context.OutputTokens is null)
        {
            (long? input, long? output) = Costs.UsageExtractor.FromOutput(outcome.OutputJson);
            _governor.Debit(ticket, (input ?? 0) + (output ?? 0));
        }

        _governor.Exit(ticket, throttled: outcome?.HttpStatus == RateLimitedStatus, succeeded: outcome?.Succeeded == true, outcome?.RetryAfter);
    }

    // The record of an attempt, and for a failure the context for the errors log; a failure is told as a verbose message.
    [MethodImpl(JitOptions.Optimized)]
    private (CheckpointRecord Record, string? ErrorContext) NewRecord(Attempt attempt, SampleOutcome outcome, bool final, string note)
    {
        // Usage the block reported wins over usage found in its result; a reported cost wins over tokens x price.
        SampleContext? context = attempt.Context;
        (long? input, long? output) = context?.InputTokens is not null || context?.OutputTokens is not null
            ? (context!.InputTokens, context.OutputTokens)
            : outcome.Succeeded ? Costs.UsageExtractor.FromOutput(outcome.OutputJson) : (null, null);
        decimal? cost = context?.Cost
            ?? (_plan.Price is Costs.ModelPrice price && (input is not null || output is not null) ? price.CostOf(input ?? 0, output ?? 0) : null);
        var record = new CheckpointRecord
        {
            InputTokens = input,
            OutputTokens = output,
            Cost = cost,
            SampleId = attempt.Sample.Id,
            Status = outcome.Succeeded ? RecordStatus.Completed : RecordStatus.Failed,
            Final = final,
            Attempt = attempt.Number,
            StartedAt = attempt.StartedAt,
            CompletedAt = attempt.StartedAt + attempt.Timer.Elapsed,
            DurationMs = attempt.Timer.Elapsed.TotalMilliseconds,
            Shard = _definition.Shard?.ToString(),
            CacheHits = context?.CacheHits ?? 0,
            CachedCost = context?.CachedCost ?? 0,
            OutputJson = outcome.Succeeded ? outcome.OutputJson : null,
            OutputJsonChecked = outcome.Succeeded && outcome.OutputJsonChecked,
            Error = outcome.Succeeded ? null : new RecordError
            {
                Type = outcome.ErrorType ?? "Error",
                Message = _masker.Apply(outcome.ErrorMessage),
                Transient = outcome.Transient,
                HttpStatus = outcome.HttpStatus,
            },
        };
        if (outcome.Succeeded)
        {
            return (record, null);
        }

        Sink(RunEvent.Verbose($"Error processing sample {attempt.Sample.Id}: {record.Error!.Type}{note}"));
        return (record, _masker.Apply(outcome.Context));
    }

    /// <summary>One sample's attempts in progress.</summary>
    private sealed class Attempt
    {
        public Attempt(SampleRunner runner, Sample sample, ISampleProcessor processor, int previous)
        {
            Runner = runner;
            Sample = sample;
            Processor = processor;
            Number = previous;
        }

        public SampleRunner Runner { get; }

        public Sample Sample { get; }

        public ISampleProcessor Processor { get; private set; }

        /// <summary>This attempt, made next with <paramref name="processor"/> (the worker's that took it).</summary>
        public Attempt On(ISampleProcessor processor)
        {
            Processor = processor;
            return this;
        }

        public int Number { get; set; }

        public DateTimeOffset StartedAt { get; set; }

        public SampleContext? Context { get; set; }

        public Stopwatch Timer { get; } = new();

        /// <summary>Failed attempts of this session but 429s: a retry is made while they are at most -MaxRetries.</summary>
        public int Failures { get; set; }

        /// <summary>The breaker's number of the streak of failures the last attempt belongs to, when it failed.</summary>
        public int Streak { get; set; }

        /// <summary>The outcome of the attempt made before the retry pipeline took over, until it asks for it.</summary>
        public SampleOutcome? FirstOutcome { get; set; }

        public SampleOutcome? TakeFirstOutcome()
        {
            SampleOutcome? first = FirstOutcome;
            FirstOutcome = null;
            return first;
        }
    }
}
