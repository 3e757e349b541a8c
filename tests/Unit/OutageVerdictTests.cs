using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Threading;
using Checkpoint.Datasets;
using Checkpoint.Runs;
using Xunit;

namespace Checkpoint.Tests;

/// <summary>
/// The failures of the streak that opens the outage breaker are the outage's: the samples whose retries they
/// used up stay pending. A streak that an answer breaks first was the samples' own.
/// </summary>
public sealed class OutageVerdictTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void ASampleWhoseRetriesRanOutInTheStreakThatOpenedTheBreakerStaysPendingAndCompletesAfterTheOutage(int throttleLimit)
    {
        // The API answers 503 to its first five calls: at ThrottleLimit 1, s1 fails four times (-MaxRetries 3),
        // one short of -MaxConsecutiveFailures 5, and s2's failure opens the breaker (with no backoff, s1's
        // retries are due at once, and a retry due runs before a new sample); at ThrottleLimit 2 the five
        // failures fall to s1 and whichever samples run beside it. The API was down for them all.
        using var dir = new TestDirectory();
        var plan = NewPlan(dir, "s1", "s2", "s3", "s4");
        plan.Definition.ThrottleLimit = throttleLimit;
        plan.Definition.RetryDelaySeconds = 0;
        var api = new Api(failingCalls: 5);

        RunSummary summary = new RunLauncher(plan).Execute(api, new QuietObserver(), CancellationToken.None);

        IReadOnlyList<JsonElement> records = ReadRecords(summary.Path);
        Assert.Empty(records.Where(r => r.GetProperty("status").GetString() == "failed" && r.GetProperty("final").GetBoolean()).Select(r => r.GetProperty("sample_id").GetString()));
        bool[] s1 = FailuresOf(records, "s1").Select(r => r.GetProperty("final").GetBoolean()).ToArray();
        if (throttleLimit == 1)
        {
            Assert.Equal(new[] { false, false, false, false }, s1);
        }
        else
        {
            Assert.NotEmpty(s1);
            Assert.All(s1, Assert.False);
        }

        Assert.Equal((4, 0, 0), (summary.CompletedSamples, summary.FailedSamples, summary.PendingSamples));
        Assert.Equal("Completed", summary.Status);
        Assert.Equal(new[] { "s1", "s2", "s3", "s4" }, records.Where(r => r.GetProperty("status").GetString() == "completed").Select(r => r.GetProperty("sample_id").GetString()).OrderBy(id => id, StringComparer.Ordinal));
    }

    [Fact]
    public void ASampleWhoseRetriesRanOutFailsForGoodWhenAnAnswerBreaksTheStreak()
    {
        using var dir = new TestDirectory();
        var plan = NewPlan(dir, "s1", "s2");
        var api = new Api(failingCalls: 0, alwaysFailing: "s1");

        RunSummary summary = new RunLauncher(plan).Execute(api, new QuietObserver(), CancellationToken.None);

        IReadOnlyList<JsonElement> records = ReadRecords(summary.Path);
        Assert.Equal(new[] { false, false, false, true }, FailuresOf(records, "s1").Select(r => r.GetProperty("final").GetBoolean()));
        Assert.Equal((1, 1, 0), (summary.CompletedSamples, summary.FailedSamples, summary.PendingSamples));
    }

    [Fact]
    public void ASampleWhoseRetriesRanOutAsTheRunEndedFailsForGood()
    {
        // Its streak never reached -MaxConsecutiveFailures: the run saw no outage.
        using var dir = new TestDirectory();
        var plan = NewPlan(dir, "s1", "s2");
        var api = new Api(failingCalls: 0, alwaysFailing: "s2");

        RunSummary summary = new RunLauncher(plan).Execute(api, new QuietObserver(), CancellationToken.None);

        IReadOnlyList<JsonElement> records = ReadRecords(summary.Path);
        Assert.Equal(new[] { false, false, false, true }, FailuresOf(records, "s2").Select(r => r.GetProperty("final").GetBoolean()));
        Assert.Equal((1, 1, 0), (summary.CompletedSamples, summary.FailedSamples, summary.PendingSamples));
    }

    private static RunPlan NewPlan(TestDirectory dir, params string[] ids)
    {
        string dataset = dir.File("data.csv");
        File.WriteAllText(dataset, "id,q\n" + string.Concat(ids.Select(id => id + ",x\n")));
        return new RunPlan
        {
            Definition =
            {
                DatasetPath = dataset,
                MaxRetries = 3,
                MaxConsecutiveFailures = 5,
                RetryDelaySeconds = 0.001,
                MaxRetryDelaySeconds = 0.005,
                OutageWaitSeconds = 0.3,
                MaxOutageMinutes = 1,
            },
            OutputDirectory = dir.File("out"),
        };
    }

    private static IReadOnlyList<JsonElement> ReadRecords(string path) =>
        File.ReadAllLines(path).Select(line => JsonDocument.Parse(line).RootElement).ToList();

    private static IEnumerable<JsonElement> FailuresOf(IEnumerable<JsonElement> records, string id) =>
        records.Where(r => r.GetProperty("sample_id").GetString() == id && r.GetProperty("status").GetString() == "failed");

    /// <summary>An API that answers 503 to its first <c>failingCalls</c> calls, and always for <c>alwaysFailing</c>.</summary>
    private sealed class Api : ISampleProcessorFactory, ISampleProcessor
    {
        private readonly int _failingCalls;
        private readonly string? _alwaysFailing;
        private int _calls;

        public Api(int failingCalls, string? alwaysFailing = null)
        {
            _failingCalls = failingCalls;
            _alwaysFailing = alwaysFailing;
        }

        public ISampleProcessor? CreateInline() => this;

        public ISampleProcessor CreateWorker(Action<object> streamed) => this;

        public SampleOutcome Process(Sample sample, SampleContext context, CancellationToken cancellationToken)
        {
            bool down = Interlocked.Increment(ref _calls) <= _failingCalls;
            return down || sample.Id == _alwaysFailing
                ? SampleOutcome.Failure("System.Net.Http.HttpRequestException", "503 (Service Unavailable)", transient: true, httpStatus: 503)
                : SampleOutcome.Success("\"ok\"");
        }

        public void Dispose()
        {
        }
    }
}
