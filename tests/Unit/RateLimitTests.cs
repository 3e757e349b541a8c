using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Threading;
using Checkpoint.Datasets;
using Checkpoint.Runs;
using Checkpoint.Store;
using Xunit;

namespace Checkpoint.Tests;

/// <summary>
/// The run's rate limits, driven without pwsh by an API whose answers the test scripts: -RateLimit and
/// -TokenRateLimit held across workers, a 429's run-wide pause, the concurrency that 429s lower and successes
/// restore, 429s kept apart from the outage breaker, and samples in backoff that hold no worker.
/// </summary>
public sealed class RateLimitTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(8)]
    [InlineData(32)]
    public void RateLimitHoldsAcrossWorkers(int throttleLimit)
    {
        // 1,200 a minute: 20 a second, a second's worth (20) at once. Without the limit, 60 instant samples
        // all start within a few milliseconds.
        using var dir = new TestDirectory();
        RunPlan plan = NewPlan(dir, 60);
        plan.Definition.ThrottleLimit = throttleLimit;
        plan.Definition.RateLimit = 1200;
        var api = new Api((call, sample, context) => SampleOutcome.Success("1"));

        RunSummary summary = new RunLauncher(plan).Execute(api, new QuietObserver(), CancellationToken.None);

        Assert.Equal(60, summary.CompletedSamples);
        AssertNoWindowOverLimit(api.Starts, perSecond: 20, burst: 20);
    }

    [Fact]
    public void ABlockThatCallsWaitForRateTakesOneRequestPerCallAndItsAttemptsNone()
    {
        using var dir = new TestDirectory();
        RunPlan plan = NewPlan(dir, 15);
        plan.Definition.ThrottleLimit = 8;
        plan.Definition.RateLimit = 1200;
        plan.Definition.BlockText = "$CheckpointContext.WaitForRate(); Invoke-Api; $CheckpointContext.WaitForRate(); Invoke-Api";
        var calls = new ConcurrentQueue<long>();
        var api = new Api((call, sample, context) =>
        {
            for (int i = 0; i < 2; i++)
            {
                context.WaitForRate();
                calls.Enqueue(Stopwatch.GetTimestamp());
            }

            return SampleOutcome.Success("1");
        });

        new RunLauncher(plan).Execute(api, new QuietObserver(), CancellationToken.None);

        Assert.Equal(30, calls.Count);
        AssertNoWindowOverLimit(calls.ToList(), perSecond: 20, burst: 20);
    }

    [Fact]
    public void AnAttemptsOwnRequestServesItsFirstCallUntilTheRunKnowsTheBlockTakesItsOwn()
    {
        var definition = new RunDefinition { ThrottleLimit = 2, RateLimit = 6000, BlockText = "Invoke-Helper $CheckpointContext" };
        using var governor = new RateGovernor(definition, "run");

        RateGovernor.Ticket first = governor.Enter(CancellationToken.None);
        governor.BeforeCall(first, 0, CancellationToken.None);
        long afterFirstCall = governor.RequestsTaken;
        governor.BeforeCall(first, 0, CancellationToken.None);
        governor.Exit(first, throttled: false, succeeded: true, retryAfter: null);
        RateGovernor.Ticket next = governor.Enter(CancellationToken.None);

        Assert.Equal((1L, 2L), (afterFirstCall, governor.RequestsTaken));
        Assert.True(governor.TakesRequestPerCall);
        Assert.False(next.RequestTaken);
    }

    [Fact]
    public void ACallWithoutAnEstimateReservesTheUsageTheRunsCallsReportedOnAverage()
    {
        var definition = new RunDefinition { ThrottleLimit = 2, TokenRateLimit = 60000 };
        using var governor = new RateGovernor(definition, "run");

        RateGovernor.Ticket first = governor.Enter(CancellationToken.None);
        long firstReserved = first.Reserved;
        governor.Debit(first, 120);
        governor.Exit(first, throttled: false, succeeded: true, retryAfter: null);
        RateGovernor.Ticket second = governor.Enter(CancellationToken.None);

        Assert.Equal((1L, 120L), (firstReserved, second.Reserved));
    }

    [Fact]
    public void A429HalvesTheConcurrencyOncePerRoundAndSuccessesRestoreIt()
    {
        var definition = new RunDefinition { ThrottleLimit = 32 };
        using var governor = new RateGovernor(definition, "run");
        List<RateGovernor.Ticket> round = Enumerable.Range(0, 32).Select(_ => governor.Enter(CancellationToken.None)).ToList();

        // The 32 requests in flight all come back 429: one round, one decrease (not 32 of them).
        foreach (RateGovernor.Ticket ticket in round)
        {
            governor.Exit(ticket, throttled: true, succeeded: false, retryAfter: TimeSpan.Zero);
        }

        int afterFirstRound = governor.Concurrency;
        governor.Exit(governor.Enter(CancellationToken.None), throttled: true, succeeded: false, retryAfter: TimeSpan.Zero);
        int afterSecondRound = governor.Concurrency;
        var raised = new List<int>();
        for (int i = 0; i < 2000 && governor.Concurrency < 32; i++)
        {
            governor.Exit(governor.Enter(CancellationToken.None), throttled: false, succeeded: true, retryAfter: null);
            raised.Add(governor.Concurrency);
        }

        Assert.Equal((16, 8), (afterFirstRound, afterSecondRound));
        Assert.Equal(32, governor.Concurrency);
        Assert.Equal(33, governor.RateLimitedCount);
        Assert.All(raised.Zip(raised.Skip(1), (a, b) => b - a), step => Assert.InRange(step, 0, 1));
    }

    [Fact]
    public void A429PausesNewStartsAcrossTheRunForItsRetryAfter()
    {
        // The first call is answered 429 with Retry-After 1 s after 50 ms; the seven others were in flight
        // already. No call may start after that answer until the second has passed.
        using var dir = new TestDirectory();
        RunPlan plan = NewPlan(dir, 24);
        plan.Definition.ThrottleLimit = 8;
        long answered = 0;
        var api = new Api((call, sample, context) =>
        {
            Thread.Sleep(50);
            if (call == 1)
            {
                Interlocked.Exchange(ref answered, Stopwatch.GetTimestamp());
                return SampleOutcome.Failure("Microsoft.PowerShell.Commands.HttpResponseException", "429 (Too Many Requests)", transient: true, httpStatus: 429, retryAfter: TimeSpan.FromSeconds(1));
            }

            return SampleOutcome.Success("1");
        });

        RunSummary summary = new RunLauncher(plan).Execute(api, new QuietObserver(), CancellationToken.None);

        Assert.Equal((24, 1), (summary.CompletedSamples, summary.RateLimitedCount));
        List<double> after = api.Starts.Where(t => t > answered).Select(t => Seconds(t - answered)).ToList();
        Assert.NotEmpty(after);
        Assert.All(after, wait => Assert.True(wait >= 0.95, $"a call started {wait:0.000} s after the 429"));
    }

    [Fact]
    public void A429StormNeverOpensTheBreakerAndEverySampleCompletes()
    {
        using var dir = new TestDirectory();
        RunPlan plan = NewPlan(dir, 10);
        plan.Definition.ThrottleLimit = 4;
        plan.Definition.MaxConsecutiveFailures = 3;
        plan.Definition.MaxRetries = 10;
        var observer = new Observer();
        var api = new Api((call, sample, context) => call <= 20
            ? SampleOutcome.Failure("Microsoft.PowerShell.Commands.HttpResponseException", "429 (Too Many Requests)", transient: true, httpStatus: 429, retryAfter: TimeSpan.FromMilliseconds(20))
            : SampleOutcome.Success("1"));

        RunSummary summary = new RunLauncher(plan).Execute(api, observer, CancellationToken.None);

        Assert.Equal((nameof(RunStatus.Completed), 10, 0, 20), (summary.Status, summary.CompletedSamples, summary.FailedSamples, summary.RateLimitedCount));
        Assert.DoesNotContain(observer.Warnings, w => w.Contains("looks down", StringComparison.Ordinal));
        Assert.All(Records(summary.Path).Where(r => r.GetProperty("status").GetString() == "failed"), r => Assert.False(r.GetProperty("final").GetBoolean()));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public void OnlyA429ForMaxOutageMinutesStopsTheRunWithApiOutageAndItsSamplesPending(int throttleLimit)
    {
        using var dir = new TestDirectory();
        RunPlan plan = NewPlan(dir, 6);
        plan.Definition.ThrottleLimit = throttleLimit;
        plan.Definition.MaxConsecutiveFailures = 2;
        plan.Definition.MaxOutageMinutes = 0.01;
        var api = new Api((call, sample, context) =>
            SampleOutcome.Failure("Microsoft.PowerShell.Commands.HttpResponseException", "429 (Too Many Requests)", transient: true, httpStatus: 429, retryAfter: TimeSpan.FromMilliseconds(50)));

        var outage = Assert.Throws<CheckpointException>(() => new RunLauncher(plan).Execute(api, new QuietObserver(), CancellationToken.None));

        Assert.Equal(ErrorIds.ApiOutage, outage.ErrorId);
        Assert.Contains("429", outage.Message, StringComparison.Ordinal);
        RunStats stats = Assert.Single(RunSet.Find(plan.OutputDirectory)).GetStats()[0];
        Assert.Equal((0, 0, 6), (stats.CompletedSamples, stats.FailedSamples, stats.PendingSamples));
    }

    [Fact]
    public void ASampleInBackoffHoldsNoWorkerEvenAtThrottleLimit1()
    {
        // r1 fails twice with a backoff of about a second each; the other 49 samples take no time.
        using var dir = new TestDirectory();
        RunPlan plan = NewPlan(dir, 50, prefix: "r");
        plan.Definition.RetryDelaySeconds = 1;
        var order = new ConcurrentQueue<string>();
        int r1Calls = 0;
        var api = new Api((call, sample, context) =>
        {
            order.Enqueue(sample.Id + "#" + context.Attempt);
            return sample.Id == "r1" && Interlocked.Increment(ref r1Calls) <= 2
                ? SampleOutcome.Failure("System.Net.Http.HttpRequestException", "500 (Internal Server Error)", transient: true, httpStatus: 500)
                : SampleOutcome.Success("1");
        });

        RunSummary summary = new RunLauncher(plan).Execute(api, new QuietObserver(), CancellationToken.None);

        List<string> calls = order.ToList();
        Assert.Equal(50, summary.CompletedSamples);
        Assert.Equal(new[] { "r1#1", "r1#2", "r1#3" }, calls.Where(c => c.StartsWith("r1#", StringComparison.Ordinal)));
        Assert.True(calls.IndexOf("r50#1") < calls.IndexOf("r1#2"), string.Join(" ", calls));
        Assert.Equal(new[] { 1, 2, 3 }, Records(summary.Path).Where(r => r.GetProperty("sample_id").GetString() == "r1").Select(r => r.GetProperty("attempt").GetInt32()));
    }

    [Fact]
    public void TokenRateLimitHoldsTheTokensReportedAcrossWorkers()
    {
        // 60,000 tokens a minute: 1,000 a second, a second's worth at once. Each call reports 100 tokens when
        // it ends, so up to 8 calls in flight may start before their tokens are known.
        using var dir = new TestDirectory();
        RunPlan plan = NewPlan(dir, 40);
        plan.Definition.ThrottleLimit = 8;
        plan.Definition.TokenRateLimit = 60000;
        var api = new Api((call, sample, context) =>
        {
            context.AddUsage(60, 40);
            return SampleOutcome.Success("1");
        });

        new RunLauncher(plan).Execute(api, new QuietObserver(), CancellationToken.None);

        AssertNoWindowOverLimit(api.Starts, perSecond: 10, burst: 10 + 8);
    }

    // Any run of consecutive starts fits in the bucket: its burst, what it refills over their span, and one
    // refill step of rounding.
    private static void AssertNoWindowOverLimit(IReadOnlyList<long> starts, double perSecond, int burst)
    {
        long[] sorted = starts.OrderBy(t => t).ToArray();
        for (int i = 0; i < sorted.Length; i++)
        {
            for (int j = i; j < sorted.Length; j++)
            {
                double allowed = burst + (perSecond * Seconds(sorted[j] - sorted[i])) + 1;
                Assert.True(j - i + 1 <= allowed, $"{j - i + 1} starts within {Seconds(sorted[j] - sorted[i]):0.000} s; at most {allowed:0.#} allowed");
            }
        }
    }

    private static double Seconds(long ticks) => ticks / (double)Stopwatch.Frequency;

    private static RunPlan NewPlan(TestDirectory dir, int rows, string prefix = "s")
    {
        string dataset = dir.File("data.csv");
        File.WriteAllText(dataset, "id,q\n" + string.Concat(Enumerable.Range(1, rows).Select(i => prefix + i + ",x\n")));
        return new RunPlan { Definition = { DatasetPath = dataset, RetryDelaySeconds = 0.01, MaxRetryDelaySeconds = 2 }, OutputDirectory = dir.File("out") };
    }

    private static List<JsonElement> Records(string path) =>
        File.ReadAllLines(path).Select(line => JsonDocument.Parse(line).RootElement).ToList();

    /// <summary>An API whose answer to each call the test decides, from the call's number (from 1) and the sample; it keeps when each call started.</summary>
    private sealed class Api : ISampleProcessorFactory, ISampleProcessor
    {
        private readonly Func<int, Sample, SampleContext, SampleOutcome> _answer;
        private readonly ConcurrentQueue<long> _starts = new();
        private int _calls;

        public Api(Func<int, Sample, SampleContext, SampleOutcome> answer) => _answer = answer;

        public IReadOnlyList<long> Starts => _starts.ToList();

        public ISampleProcessor? CreateInline() => this;

        public ISampleProcessor CreateWorker(Action<object> streamed) => this;

        public SampleOutcome Process(Sample sample, SampleContext context, CancellationToken cancellationToken)
        {
            _starts.Enqueue(Stopwatch.GetTimestamp());
            return _answer(Interlocked.Increment(ref _calls), sample, context);
        }

        public void Dispose()
        {
        }
    }

    private sealed class Observer : IRunObserver
    {
        public List<string> Warnings { get; } = new();

        public bool OutputClosed => false;

        public void Verbose(string message)
        {
        }

        public void Warning(string message) => Warnings.Add(message);

        public void Progress(RunProgress progress)
        {
        }

        public void Streamed(object record)
        {
        }

        public void SampleFinished(SampleResult result)
        {
        }
    }
}
