using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using Checkpoint.Datasets;
using Checkpoint.Runs;
using Checkpoint.Store;
using Xunit;
using Checkpoint.Sharding;

namespace Checkpoint.Tests;

/// <summary>
/// Which record of a sample counts when the files of a run (its unsharded part and its shards, written on
/// other nodes with other clocks) hold several: a completed record anywhere wins.
/// </summary>
public sealed class MergeRuleTests
{
    private const string RunId = "20261128_data_model_0123abcd";

    // The node that wrote it runs an hour ahead of the one that completed the sample.
    private static readonly TimeSpan s_clockAhead = TimeSpan.FromHours(1);

    [Theory]
    [InlineData(true, true)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(false, false)]
    public void ACompletedRecordInOneFileIsNotHiddenByALaterFailureInAnother(bool final, bool completedFileFirst)
    {
        using var dir = new TestDirectory();
        string completed = Write(new RunFiles(dir.Path, RunId), Records.Completed("a", "paid"));
        string failed = Write(new RunFiles(dir.Path, RunId, new ShardSpec(1, 2)), Records.Failed("a", attempt: 2, final: final, later: s_clockAhead));

        CheckpointIndex index = CheckpointLoader.Load(completedFileFirst ? new[] { completed, failed } : new[] { failed, completed });

        Assert.Empty(index.Issues);
        Assert.True(index.IsCompleted("a"));
        Assert.Equal((1, 0, 0), (index.CompletedCount, index.FailedCount, index.RetryingCount));
        Assert.Equal(1, index.ErrorCount);
        Assert.Contains("\"paid\"", index.ReadLatestRecords().Single().OutputJson, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void TheEarliestCompletedRecordWinsAmongFiles(bool earliestFileFirst)
    {
        using var dir = new TestDirectory();
        string early = Write(new RunFiles(dir.Path, RunId, new ShardSpec(2, 2)), Records.Completed("a", "first"));
        string late = Write(new RunFiles(dir.Path, RunId, new ShardSpec(1, 2)), Records.Completed("a", "second", later: s_clockAhead));

        CheckpointIndex index = CheckpointLoader.Load(earliestFileFirst ? new[] { early, late } : new[] { late, early });

        Assert.Equal(1, index.CompletedCount);
        Assert.Contains("\"first\"", index.ReadLatestRecords().Single().OutputJson, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void WithNoCompletedRecordTheFailureThatEndedLastWinsAndEveryFailedAttemptCounts(bool lateFileFirst)
    {
        using var dir = new TestDirectory();
        string early = Write(new RunFiles(dir.Path, RunId), Records.Failed("a", attempt: 1, final: true));
        string late = Write(new RunFiles(dir.Path, RunId, new ShardSpec(1, 2)), Records.Failed("a", attempt: 2, final: false, later: s_clockAhead));

        CheckpointIndex index = CheckpointLoader.Load(lateFileFirst ? new[] { late, early } : new[] { early, late });

        Assert.Equal((0, 0, 1), (index.CompletedCount, index.FailedCount, index.RetryingCount));
        Assert.Equal(2, index.ErrorCount);
        Assert.Equal(2, index.Samples["a"].Attempt);
    }

    [Fact]
    public void WithinOneFileTheLaterRecordWinsWhateverItsTimeSays()
    {
        // One writer appends to a file (the run's lock), so its order is the writer's own: a -NoResume rerun
        // appends a new result, or a failure, after a completed record, and that is what the sample now has.
        using var dir = new TestDirectory();
        var files = new RunFiles(dir.Path, RunId);
        string path = Write(
            files,
            Records.Completed("a", "first", later: s_clockAhead),
            Records.Completed("a", "second"),
            Records.Completed("b", later: s_clockAhead),
            Records.Failed("b", attempt: 2, final: true));

        CheckpointIndex index = CheckpointLoader.Load(path);

        Assert.True(index.IsCompleted("a"));
        Assert.Contains("\"second\"", index.ReadLatestRecords((id, _) => id == "a").Single().OutputJson, StringComparison.Ordinal);
        Assert.True(index.Samples["b"].IsFailed);
        Assert.Equal((1, 1), (index.CompletedCount, index.FailedCount));
    }

    [Fact]
    public void AFileDecidesWhichOfItsOwnRecordsCountsBeforeItIsComparedWithAnother()
    {
        // The second file's completed record is earlier than the first file's, but a failure follows it there
        // (a -NoResume rerun that failed): that file's record is the failure, and the first file's result wins.
        using var dir = new TestDirectory();
        string first = Write(new RunFiles(dir.Path, RunId), Records.Completed("a", "kept", later: s_clockAhead));
        string second = Write(
            new RunFiles(dir.Path, RunId, new ShardSpec(1, 2)),
            Records.Completed("a", "redone"),
            Records.Failed("a", attempt: 2, final: true, later: s_clockAhead + s_clockAhead));

        CheckpointIndex index = CheckpointLoader.Load(new[] { first, second });

        Assert.True(index.IsCompleted("a"));
        Assert.Contains("\"kept\"", index.ReadLatestRecords().Single().OutputJson, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ARunSkipsASampleCompletedInAnyOfItsFilesWhateverALaterFailureInAnotherSays(bool completedInOwnFile)
    {
        using var dir = new TestDirectory();
        string dataset = dir.File("data.csv");
        File.WriteAllText(dataset, "id,q\na,1\nb,2\nc,3\n");
        var plan = new RunPlan { Definition = { DatasetPath = dataset }, OutputDirectory = dir.File("out"), RunId = RunId };
        var own = new RunFiles(plan.OutputDirectory, RunId);
        var other = new RunFiles(plan.OutputDirectory, RunId, new ShardSpec(1, 2));
        Write(completedInOwnFile ? own : other, Records.Completed("a"), Records.Completed("b"));
        Write(
            completedInOwnFile ? other : own,
            Records.Failed("a", attempt: 2, final: true, later: s_clockAhead),
            Records.Failed("b", attempt: 2, final: false, later: s_clockAhead));
        var engine = new RunLauncher(plan);

        RunPreview preview = engine.Preview();
        var processors = new CountingProcessors();
        RunSummary summary = engine.Execute(processors, new QuietObserver(), CancellationToken.None);

        Assert.Equal((2, 0, 1), (preview.Completed, preview.Failed, preview.ToProcess));
        Assert.Equal(new[] { "c" }, processors.Processed);
        Assert.Equal((3, 0, 0), (summary.CompletedSamples, summary.FailedSamples, summary.PendingSamples));
        Assert.Equal(nameof(RunStatus.Completed), summary.Status);
    }

    private static string Write(RunFiles files, params CheckpointRecord[] records)
    {
        using (CheckpointStore store = CheckpointStore.Open(files))
        {
            foreach (CheckpointRecord record in records)
            {
                store.Append(record);
            }

            store.Close(RunStatus.Incomplete);
        }

        return files.ResultsPath;
    }

    private sealed class CountingProcessors : ISampleProcessorFactory, ISampleProcessor
    {
        public List<string> Processed { get; } = new();

        public ISampleProcessor? CreateInline() => this;

        public ISampleProcessor CreateWorker(Action<object> streamed) => this;

        public SampleOutcome Process(Sample sample, SampleContext context, CancellationToken cancellationToken)
        {
            Processed.Add(sample.Id);
            return SampleOutcome.Success("\"done\"");
        }

        public void Dispose()
        {
        }
    }
}
