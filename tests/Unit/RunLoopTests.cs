using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
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
/// The run loop driven without pwsh, by a processor whose answers the test decides: which samples it is
/// handed and where, how the budget and an outage stop and resume the starts, and the final status with the
/// counts of the summary, which the files must agree with.
/// </summary>
public sealed class RunLoopTests
{
    [Fact]
    public void InlineEverySampleRunsOnceInFileOrderOnTheCallersThread()
    {
        using var dir = new TestDirectory();
        RunPlan plan = NewPlan(dir, 20);
        var processor = new FakeProcessor();
        var observer = new WatchingObserver();

        RunSummary summary = new RunLauncher(plan).Execute(processor, observer, CancellationToken.None);

        Assert.Equal(Ids(20), processor.Processed);
        Assert.Equal(new[] { Environment.CurrentManagedThreadId }, processor.Threads.Distinct());
        Assert.Equal((nameof(RunStatus.Completed), 20, 0, 0, 20), (summary.Status, summary.CompletedSamples, summary.FailedSamples, summary.PendingSamples, summary.ProcessedThisRun));
        Assert.Equal(20, observer.Finished.Count);
        Assert.Equal(Ids(20), Completed(summary.Path));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public void InParallelEverySampleRunsOnceOnAWorkerAndTheObserverHearsOnTheCallersThread(int workers)
    {
        using var dir = new TestDirectory();
        RunPlan plan = NewPlan(dir, 60);
        plan.Definition.ThrottleLimit = workers;
        var processor = new FakeProcessor { Delay = TimeSpan.FromMilliseconds(2) };
        var observer = new WatchingObserver();

        RunSummary summary = new RunLauncher(plan).Execute(processor, observer, CancellationToken.None);

        Assert.Equal(Ids(60), processor.Processed.OrderBy(Number));
        Assert.DoesNotContain(Environment.CurrentManagedThreadId, processor.Threads);
        Assert.Equal(workers, processor.WorkersCreated);
        Assert.Equal(new[] { Environment.CurrentManagedThreadId }, observer.Threads.Distinct());
        Assert.Equal((nameof(RunStatus.Completed), 60, 60), (summary.Status, summary.CompletedSamples, summary.ProcessedThisRun));
        Assert.Equal(Ids(60), Completed(summary.Path).OrderBy(Number));
    }

    [Fact]
    public void ALimitTakesThatManyPendingSamplesAndTheRunEndsIncompleteAsThePreviewSaid()
    {
        using var dir = new TestDirectory();
        RunPlan plan = NewPlan(dir, 10);
        new RunLauncher(plan).Execute(new FakeProcessor(), new WatchingObserver(), CancellationToken.None);
        RunPlan resume = NewPlan(dir, 15);
        resume.Limit = 3;
        var engine = new RunLauncher(resume);

        RunPreview preview = engine.Preview();
        var processor = new FakeProcessor();
        RunSummary summary = engine.Execute(processor, new WatchingObserver(), CancellationToken.None);

        Assert.Equal((15, 10, 3), (preview.Total, preview.Completed, preview.ToProcess));
        Assert.Equal(new[] { "s11", "s12", "s13" }, processor.Processed);
        Assert.Equal((nameof(RunStatus.Incomplete), 13, 2, 3, 10), (summary.Status, summary.CompletedSamples, summary.PendingSamples, summary.ProcessedThisRun, summary.SkippedThisRun));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void TheBudgetStopsTheStartsAndEveryStartedSampleIsKeptAndCounted(int workers)
    {
        using var dir = new TestDirectory();
        RunPlan plan = NewPlan(dir, 30);
        plan.Definition.ThrottleLimit = workers;
        plan.Definition.MaxCost = 5;
        var processor = new FakeProcessor { CostEach = 1, Delay = TimeSpan.FromMilliseconds(2) };
        var observer = new WatchingObserver();

        RunSummary summary = new RunLauncher(plan).Execute(processor, observer, CancellationToken.None);

        Assert.Equal(nameof(RunStatus.BudgetReached), summary.Status);
        int recorded = Completed(summary.Path).Count;
        Assert.Equal(processor.Processed.Count, recorded);
        Assert.InRange(recorded, 5, 5 + workers - 1);
        Assert.Equal((recorded, recorded, 30 - recorded), (summary.ProcessedThisRun, summary.CompletedSamples, summary.PendingSamples));
        Assert.Equal(recorded, summary.TotalCost);
        Assert.Single(observer.Warnings, w => w.StartsWith("The run's cost reached the budget", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void AnOutageIsWaitedOutAndProbedThenTheRunCompletesWithNoSampleFailed(int workers)
    {
        using var dir = new TestDirectory();
        RunPlan plan = NewPlan(dir, 12);
        plan.Definition.ThrottleLimit = workers;
        plan.Definition.MaxRetries = 0;
        plan.Definition.MaxConsecutiveFailures = 3;
        plan.Definition.OutageWaitSeconds = 0.05;
        var processor = new FakeProcessor { DownForCalls = 5 };
        var observer = new WatchingObserver();

        RunSummary summary = new RunLauncher(plan).Execute(processor, observer, CancellationToken.None);

        Assert.Equal((nameof(RunStatus.Completed), 12, 0), (summary.Status, summary.CompletedSamples, summary.FailedSamples));
        Assert.Equal(Ids(12), Completed(summary.Path).OrderBy(Number));
        Assert.Contains(observer.Warnings, w => w.StartsWith("The API looks down: 3 attempts in a row", StringComparison.Ordinal));
        Assert.Contains(observer.Verbose, v => v == "The API answers again: the outage is over.");
        Assert.All(Records(summary.Path).Where(r => r.GetProperty("status").GetString() == "failed"), r => Assert.False(r.GetProperty("final").GetBoolean()));
    }

    [Fact]
    public void AnOutageLongerThanMaxOutageStopsTheRunWithApiOutageAndItsSamplesPending()
    {
        using var dir = new TestDirectory();
        RunPlan plan = NewPlan(dir, 8);
        plan.Definition.MaxRetries = 0;
        plan.Definition.MaxConsecutiveFailures = 2;
        plan.Definition.OutageWaitSeconds = 0.02;
        plan.Definition.MaxOutageMinutes = 0.002;
        var processor = new FakeProcessor { DownForCalls = int.MaxValue };

        var outage = Assert.Throws<CheckpointException>(() => new RunLauncher(plan).Execute(processor, new WatchingObserver(), CancellationToken.None));

        Assert.Equal(ErrorIds.ApiOutage, outage.ErrorId);
        RunStats stats = Assert.Single(RunSet.Find(plan.OutputDirectory)).GetStats()[0];
        Assert.Equal((nameof(RunStatus.Incomplete), 0, 0, 8), (stats.Status, stats.CompletedSamples, stats.FailedSamples, stats.PendingSamples));
    }

    [Fact]
    public void APermanentFailureFailsThatSampleForGoodAndTheRunEndsIncomplete()
    {
        using var dir = new TestDirectory();
        RunPlan plan = NewPlan(dir, 5);
        var processor = new FakeProcessor { FailingFor = "s3" };

        RunSummary summary = new RunLauncher(plan).Execute(processor, new WatchingObserver(), CancellationToken.None);

        Assert.Equal((nameof(RunStatus.Incomplete), 4, 1, 0), (summary.Status, summary.CompletedSamples, summary.FailedSamples, summary.PendingSamples));
        Assert.Equal(1, processor.Processed.Count(id => id == "s3"));
    }

    [Fact]
    public void AResumeOfACompletedRunProcessesNothingAndSaysCompleted()
    {
        using var dir = new TestDirectory();
        new RunLauncher(NewPlan(dir, 7)).Execute(new FakeProcessor(), new WatchingObserver(), CancellationToken.None);
        var processor = new FakeProcessor();
        var observer = new WatchingObserver();

        RunSummary summary = new RunLauncher(NewPlan(dir, 7)).Execute(processor, observer, CancellationToken.None);

        Assert.Empty(processor.Processed);
        Assert.Equal((nameof(RunStatus.Completed), 7, 0, 7), (summary.Status, summary.CompletedSamples, summary.ProcessedThisRun, summary.SkippedThisRun));
        Assert.Equal(new[] { "Skipping completed sample: s1", "Skipping completed sample: s2", "Skipping completed sample: s3", "... (skipping 4 more completed samples)" }, observer.Verbose.Where(v => v.Contains("skipping", StringComparison.OrdinalIgnoreCase)));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void ACancelledRunEndsInterruptedWithWhatItFinishedKept(int workers)
    {
        using var dir = new TestDirectory();
        RunPlan plan = NewPlan(dir, 40);
        plan.Definition.ThrottleLimit = workers;
        using var cancellation = new CancellationTokenSource();
        var processor = new FakeProcessor { Delay = TimeSpan.FromMilliseconds(2), CancelAfter = (10, cancellation) };

        RunSummary summary = new RunLauncher(plan).Execute(processor, new WatchingObserver(), cancellation.Token);

        Assert.Equal(nameof(RunStatus.Interrupted), summary.Status);
        int recorded = Completed(summary.Path).Count;
        Assert.InRange(recorded, 10, 39);
        Assert.Equal((recorded, 40 - recorded), (summary.CompletedSamples, summary.PendingSamples));
        Assert.Contains("\"status\": \"Interrupted\"", File.ReadAllText(new RunFiles(plan.OutputDirectory, summary.RunId).StatePath), StringComparison.Ordinal);
    }

    [Fact]
    public void ACallerThatWantsNoMoreResultsEndsTheRunInterruptedBeforeTheNextSampleStarts()
    {
        // A sample slower than a millisecond is reported before the next one starts (a faster one once the record
        // queue has written it), so the caller has its results before another sample is paid for.
        using var dir = new TestDirectory();
        RunPlan plan = NewPlan(dir, 30);
        var observer = new WatchingObserver { CloseAfter = 2 };

        RunSummary summary = new RunLauncher(plan).Execute(new FakeProcessor { Delay = TimeSpan.FromMilliseconds(3) }, observer, CancellationToken.None);

        Assert.Equal((nameof(RunStatus.Interrupted), 2, 28, 2), (summary.Status, summary.CompletedSamples, summary.PendingSamples, summary.ProcessedThisRun));
        Assert.Equal(new[] { "s1", "s2" }, Completed(summary.Path));
        Assert.Contains(observer.Verbose, v => v.StartsWith("The pipeline wants no more results", StringComparison.Ordinal));
    }

    private static RunPlan NewPlan(TestDirectory dir, int rows)
    {
        string dataset = dir.File("data.csv");
        File.WriteAllText(dataset, "id,q\n" + string.Concat(Ids(rows).Select(id => id + ",x\n")));
        return new RunPlan { Definition = { DatasetPath = dataset, CheckpointEvery = 3 }, OutputDirectory = dir.File("out") };
    }

    private static string[] Ids(int count) => Enumerable.Range(1, count).Select(i => "s" + i).ToArray();

    private static int Number(string id) => int.Parse(id.Substring(1), System.Globalization.CultureInfo.InvariantCulture);

    private static List<JsonElement> Records(string path) =>
        File.ReadAllLines(path).Select(line => JsonDocument.Parse(line).RootElement).ToList();

    private static List<string> Completed(string path) =>
        Records(path).Where(r => r.GetProperty("status").GetString() == "completed").Select(r => r.GetProperty("sample_id").GetString()!).ToList();

    /// <summary>
    /// One processor for the caller's thread and every worker: it completes each sample unless told to fail it
    /// for good, or to answer 503 to its first calls (an outage); it may report a cost, and cancel the run
    /// after some samples.
    /// </summary>
    private sealed class FakeProcessor : ISampleProcessorFactory, ISampleProcessor
    {
        private readonly ConcurrentQueue<string> _processed = new();
        private readonly ConcurrentQueue<int> _threads = new();
        private int _calls;
        private int _workers;

        public TimeSpan Delay { get; init; }

        public decimal CostEach { get; init; }

        public int DownForCalls { get; init; }

        public string? FailingFor { get; init; }

        public (int Samples, CancellationTokenSource Source)? CancelAfter { get; init; }

        public List<string> Processed => _processed.ToList();

        public IReadOnlyCollection<int> Threads => _threads.ToList();

        public int WorkersCreated => Volatile.Read(ref _workers);

        public ISampleProcessor? CreateInline() => this;

        public ISampleProcessor CreateWorker(Action<object> streamed)
        {
            Interlocked.Increment(ref _workers);
            return this;
        }

        public SampleOutcome Process(Sample sample, SampleContext context, CancellationToken cancellationToken)
        {
            _threads.Enqueue(Environment.CurrentManagedThreadId);
            int call = Interlocked.Increment(ref _calls);
            if (Delay > TimeSpan.Zero)
            {
                cancellationToken.WaitHandle.WaitOne(Delay);
            }

            if (call <= DownForCalls)
            {
                return SampleOutcome.Failure("System.Net.Http.HttpRequestException", "503 (Service Unavailable)", transient: true, httpStatus: 503);
            }

            _processed.Enqueue(sample.Id);
            if (CancelAfter is var (samples, source) && _processed.Count >= samples)
            {
                source.Cancel();
            }

            if (sample.Id == FailingFor)
            {
                return SampleOutcome.Failure("System.ArgumentException", "bad input", transient: false);
            }

            if (CostEach > 0)
            {
                context.AddCost(CostEach);
            }

            return SampleOutcome.Success("\"" + sample.Id + "\"");
        }

        public void Dispose()
        {
        }
    }

    /// <summary>An observer that keeps what it hears and on which thread; it may stop wanting results after some.</summary>
    private sealed class WatchingObserver : IRunObserver
    {
        public int CloseAfter { get; init; } = int.MaxValue;

        public List<string> Verbose { get; } = new();

        public List<string> Warnings { get; } = new();

        public List<SampleResult> Finished { get; } = new();

        public HashSet<int> Threads { get; } = new();

        public bool OutputClosed => Finished.Count >= CloseAfter;

        void IRunObserver.Verbose(string message) => Heard(() => Verbose.Add(message));

        public void Warning(string message) => Heard(() => Warnings.Add(message));

        public void Progress(RunProgress progress) => Heard(() => { });

        public void Streamed(object record) => Heard(() => { });

        public void SampleFinished(SampleResult result) => Heard(() => Finished.Add(result));

        private void Heard(Action keep)
        {
            lock (Threads)
            {
                Threads.Add(Environment.CurrentManagedThreadId);
                keep();
            }
        }
    }
}
