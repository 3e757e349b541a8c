using System;
using System.IO;
using System.Linq;
using System.Threading;
using Checkpoint.Datasets;
using Checkpoint.Runs;
using Xunit;
using Checkpoint.Sharding;

namespace Checkpoint.Tests;

/// <summary>What a resume reads of a run: the run -Latest picks, and the shards a sharded run has no files for.</summary>
public sealed class RunSetResumeTests
{
    [Fact]
    public void LatestIsTheNewestRunNotCompletedAndNullWhenEveryRunIs()
    {
        using var dir = new TestDirectory();
        string output = dir.File("out");
        RunSummary older = Run(dir, output, "older", limit: 1);
        Thread.Sleep(20);
        RunSummary newer = Run(dir, output, "newer", limit: 1);
        Thread.Sleep(20);
        Run(dir, output, "done", limit: null);

        Assert.Equal(newer.RunId, RunSet.FindLatest(output)?.RunId);
        Run(dir, output, "newer", limit: null);
        Assert.Equal(older.RunId, RunSet.FindLatest(output)?.RunId);
        Run(dir, output, "older", limit: null);
        Assert.Null(RunSet.FindLatest(output));
    }

    [Fact]
    public void LatestInAnOutputDirectoryThatDoesNotExistIsRunNotFound()
    {
        using var dir = new TestDirectory();

        var missing = Assert.Throws<CheckpointException>(() => RunSet.FindLatest(dir.File("outputs")));

        Assert.Equal(ErrorIds.RunNotFound, missing.ErrorId);
        Assert.False(Directory.Exists(dir.File("outputs")));
    }

    [Fact]
    public void TheShardsWithoutFilesAreNamedOncePerShardCount()
    {
        using var dir = new TestDirectory();
        string output = dir.File("out");
        foreach (ShardSpec shard in new[] { new ShardSpec(1, 4), new ShardSpec(3, 4), new ShardSpec(2, 2) })
        {
            Run(dir, output, "m", limit: 1, shard);
        }

        RunSet set = Assert.Single(RunSet.Find(output));
        var warnings = new System.Collections.Generic.List<string>();
        set.WarnOfMissingShards(warnings.Add);

        Assert.Equal(new[] { "1/2", "2/4", "4/4" }, set.MissingShards().Select(s => s.ToString()).OrderBy(s => s, StringComparer.Ordinal));
        Assert.Equal(2, warnings.Count);
        Assert.Single(warnings, w => w.Contains("has no files for shard 2/4, 4/4 in", StringComparison.Ordinal));
        Assert.Single(warnings, w => w.Contains("has no files for shard 1/2 in", StringComparison.Ordinal));
    }

    private static RunSummary Run(TestDirectory dir, string output, string model, int? limit, ShardSpec? shard = null)
    {
        string dataset = dir.File("data.csv");
        if (!File.Exists(dataset))
        {
            File.WriteAllText(dataset, "id,q\n" + string.Concat(Enumerable.Range(1, 8).Select(i => $"s{i},x\n")));
        }

        var plan = new RunPlan { Definition = { DatasetPath = dataset, Model = model, Shard = shard }, OutputDirectory = output, Limit = limit };
        return new RunLauncher(plan).Execute(new Done(), new QuietObserver(), CancellationToken.None);
    }

    private sealed class Done : ISampleProcessorFactory, ISampleProcessor
    {
        public ISampleProcessor? CreateInline() => this;

        public ISampleProcessor CreateWorker(Action<object> streamed) => this;

        public SampleOutcome Process(Sample sample, SampleContext context, CancellationToken cancellationToken) => SampleOutcome.Success("1");

        public void Dispose()
        {
        }
    }
}
