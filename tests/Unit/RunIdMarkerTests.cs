using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using Checkpoint.Datasets;
using Checkpoint.Identity;
using Checkpoint.Runs;
using Checkpoint.Store;
using Xunit;
using Checkpoint.Sharding;

namespace Checkpoint.Tests;

/// <summary>
/// The run id marker, <c>{dataset}_{model}_{hash8}.runid</c>: starts of one study on either side of 00:00 UTC,
/// or racing before any has written a file, join one run. The tests go through <see cref="RunLauncher.Execute"/>,
/// the writer, with the plan's clock.
/// </summary>
public sealed class RunIdMarkerTests
{
    private static readonly DateTime s_beforeMidnight = new(2026, 11, 27, 23, 59, 59, 900, DateTimeKind.Utc);
    private static readonly DateTime s_afterMidnight = new(2026, 11, 28, 0, 0, 0, 100, DateTimeKind.Utc);

    [Theory]
    [InlineData(2)]
    [InlineData(8)]
    public void StartsRacingEitherSideOfMidnightJoinOneRun(int starts)
    {
        using var dir = new TestDirectory();
        string dataset = WriteDataset(dir, 40);
        string output = dir.File("out");
        // Every start reads its clock, then all go on at once: none has written a file when the others look.
        using var together = new Barrier(starts);
        var summaries = new RunSummary[starts];
        var failures = new Exception?[starts];
        var threads = Enumerable.Range(0, starts).Select(i => new Thread(() =>
        {
            try
            {
                DateTime now = i % 2 == 0 ? s_beforeMidnight : s_afterMidnight;
                bool first = true;
                RunPlan plan = Plan(dataset, output, () =>
                {
                    if (first)
                    {
                        first = false;
                        together.SignalAndWait(TimeSpan.FromSeconds(60));
                    }

                    return now;
                });
                plan.Definition.Shard = new ShardSpec(i + 1, starts);
                summaries[i] = new RunLauncher(plan).Execute(new Processors(), new QuietObserver(), CancellationToken.None);
            }
            catch (Exception e)
            {
                failures[i] = e;
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => Assert.True(t.Join(TimeSpan.FromSeconds(120))));

        Assert.All(failures, Assert.Null);
        RunIdentity identity = RunIdentity.Create(dataset, "m", null, 0);
        string[] ids = summaries.Select(s => s.RunId).Distinct().ToArray();
        Assert.Single(ids);
        Assert.Contains(ids[0], new[] { identity.RunIdFor(s_beforeMidnight), identity.RunIdFor(s_afterMidnight) });
        Assert.Equal(ids[0] + "\n", File.ReadAllText(MarkerPath(output, identity)));
        RunSet run = Assert.Single(RunSet.Find(output));
        Assert.Equal(starts, run.Parts.Count);
        Assert.Equal(40, run.GetStats()[0].CompletedSamples);
    }

    [Fact]
    public void ClaimsReleasedTogetherOnAnEmptyDirectoryAgreeEveryTime()
    {
        using var dir = new TestDirectory();
        RunIdentity identity = RunIdentity.Create("data.csv", "m", null, 0);
        const int Claims = 8;
        for (int round = 0; round < 25; round++)
        {
            string output = dir.File("out" + round.ToString(System.Globalization.CultureInfo.InvariantCulture));
            using var together = new Barrier(Claims);
            var ids = new string?[Claims];
            var threads = Enumerable.Range(0, Claims).Select(i => new Thread(() =>
            {
                together.SignalAndWait(TimeSpan.FromSeconds(60));
                ids[i] = identity.ClaimRunId(output, i % 2 == 0 ? s_beforeMidnight : s_afterMidnight);
            })).ToList();
            threads.ForEach(t => t.Start());
            threads.ForEach(t => Assert.True(t.Join(TimeSpan.FromSeconds(60))));

            string? id = Assert.Single(ids.Distinct());
            Assert.NotNull(id);
            Assert.Equal(id + "\n", File.ReadAllText(MarkerPath(output, identity)));
        }
    }

    [Fact]
    public void AStartWaitsForAMarkerThatIsBeingWrittenAndJoinsTheRunItNames()
    {
        using var dir = new TestDirectory();
        string dataset = WriteDataset(dir, 5);
        string output = dir.File("out");
        Directory.CreateDirectory(output);
        RunIdentity identity = RunIdentity.Create(dataset, "m", null, 0);
        string marker = MarkerPath(output, identity);
        string earlier = identity.RunIdFor(new DateTime(2026, 11, 20));
        // Created, not yet written: another start between its exclusive create and its write.
        using (var creating = new FileStream(marker, FileMode.CreateNew, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete))
        {
            var writer = new Thread(() =>
            {
                Thread.Sleep(300);
                byte[] bytes = Encoding.ASCII.GetBytes(earlier + "\n");
                creating.Write(bytes, 0, bytes.Length);
                creating.Flush();
            });
            writer.Start();

            RunSummary summary = new RunLauncher(Plan(dataset, output, () => s_afterMidnight)).Execute(new Processors(), new QuietObserver(), CancellationToken.None);
            writer.Join();

            Assert.Equal(earlier, summary.RunId);
        }

        Assert.Equal(earlier + "\n", File.ReadAllText(marker));
        Assert.Equal(new[] { earlier }, RunSet.Find(output).Select(r => r.RunId));
    }

    [Theory]
    [InlineData("")]
    [InlineData("20261127_data_m_")]
    public void AMarkerLeftEmptyOrHalfWrittenByAKilledStartIsTakenOverWithTheDayItWasMade(string leftBehind)
    {
        using var dir = new TestDirectory();
        string dataset = WriteDataset(dir, 5);
        string output = dir.File("out");
        Directory.CreateDirectory(output);
        RunIdentity identity = RunIdentity.Create(dataset, "m", null, 0);
        string marker = MarkerPath(output, identity);
        File.WriteAllText(marker, leftBehind);
        File.SetLastWriteTimeUtc(marker, s_beforeMidnight);

        RunSummary first = new RunLauncher(Plan(dataset, output, () => s_afterMidnight)).Execute(new Processors(), new QuietObserver(), CancellationToken.None);
        RunSummary second = new RunLauncher(Plan(dataset, output, () => s_afterMidnight.AddDays(3))).Execute(new Processors(), new QuietObserver(), CancellationToken.None);

        // Every start that finds it so agrees on the day the marker was made, not on its own clock.
        Assert.Equal(identity.RunIdFor(s_beforeMidnight), first.RunId);
        Assert.Equal(first.RunId + "\n", File.ReadAllText(marker));
        Assert.Equal(first.RunId, second.RunId);
        Assert.Equal(5, first.CompletedSamples);
        Assert.Equal(0, second.ProcessedThisRun);
    }

    [Fact]
    public void ARunBegunWithoutAMarkerKeepsItsIdAndGetsOneFromItsNextStartOnly()
    {
        using var dir = new TestDirectory();
        string dataset = WriteDataset(dir, 6);
        string output = dir.File("out");
        RunIdentity identity = RunIdentity.Create(dataset, "m", null, 0);
        string marker = MarkerPath(output, identity);
        RunPlan old = Plan(dataset, output, () => new DateTime(2026, 11, 20, 12, 0, 0, DateTimeKind.Utc));
        old.Limit = 2;
        RunSummary before = new RunLauncher(old).Execute(new Processors(), new QuietObserver(), CancellationToken.None);
        // A run of a release that wrote no marker.
        File.Delete(marker);

        // Readers and a preview leave it so.
        RunPlan later = Plan(dataset, output, () => s_afterMidnight);
        Assert.Equal(before.RunId, new RunLauncher(later).Preview().RunId);
        Assert.Equal(before.RunId, identity.ResolveRunId(output, s_afterMidnight));
        Assert.Equal(2, Assert.Single(RunSet.Find(output)).GetStats()[0].CompletedSamples);
        Assert.False(File.Exists(marker));

        RunSummary after = new RunLauncher(later).Execute(new Processors(), new QuietObserver(), CancellationToken.None);

        Assert.Equal(identity.RunIdFor(new DateTime(2026, 11, 20)), after.RunId);
        Assert.Equal(4, after.ProcessedThisRun);
        Assert.Equal(after.RunId + "\n", File.ReadAllText(marker));
    }

    [Fact]
    public void TheMarkerDecidesOverAnEarlierRunAndAPlanWithItsOwnRunIdLeavesItAlone()
    {
        using var dir = new TestDirectory();
        string dataset = WriteDataset(dir, 3);
        string output = dir.File("out");
        RunIdentity identity = RunIdentity.Create(dataset, "m", null, 0);
        string marker = MarkerPath(output, identity);
        RunSummary marked = new RunLauncher(Plan(dataset, output, () => s_afterMidnight)).Execute(new Processors(), new QuietObserver(), CancellationToken.None);
        string other = identity.RunIdFor(new DateTime(2026, 11, 1));
        RunPlan resume = Plan(dataset, output, () => s_afterMidnight);
        resume.RunId = other;

        RunSummary resumed = new RunLauncher(resume).Execute(new Processors(), new QuietObserver(), CancellationToken.None);
        RunSummary again = new RunLauncher(Plan(dataset, output, () => s_afterMidnight.AddDays(1))).Execute(new Processors(), new QuietObserver(), CancellationToken.None);

        Assert.Equal(other, resumed.RunId);
        Assert.Equal(marked.RunId + "\n", File.ReadAllText(marker));
        // The earlier run of the same identity does not take the study over: the marker settled it.
        Assert.Equal(marked.RunId, again.RunId);
        Assert.Equal(0, again.ProcessedThisRun);
    }

    [Fact]
    public void TheMarkerGoesWithTheRunsLastPartAndThenAStartBeginsANewDatedRun()
    {
        using var dir = new TestDirectory();
        string dataset = WriteDataset(dir, 6);
        string output = dir.File("out");
        RunIdentity identity = RunIdentity.Create(dataset, "m", null, 0);
        string marker = MarkerPath(output, identity);
        var summaries = new List<RunSummary>();
        foreach (int k in new[] { 1, 2 })
        {
            RunPlan plan = Plan(dataset, output, () => s_beforeMidnight);
            plan.Definition.Shard = new ShardSpec(k, 2);
            summaries.Add(new RunLauncher(plan).Execute(new Processors(), new QuietObserver(), CancellationToken.None));
        }

        string runId = summaries[0].RunId;
        var shard1 = new RunFiles(output, runId, new ShardSpec(1, 2));
        var shard2 = new RunFiles(output, runId, new ShardSpec(2, 2));
        // Either shard alone (-Overwrite of one shard) leaves it: the other still joins the run.
        Assert.DoesNotContain(marker, shard1.ExistingFiles());
        Assert.DoesNotContain(marker, shard2.ExistingFiles());
        foreach (string file in shard1.ExistingFiles())
        {
            File.Delete(file);
        }

        Assert.Contains(marker, shard2.ExistingFiles());
        RunSet run = Assert.Single(RunSet.Find(output));
        Assert.Contains(marker, run.AllFiles());

        IReadOnlyList<string> deleted = run.Remove();

        Assert.Contains(marker, deleted);
        Assert.Empty(Directory.GetFiles(output));
        RunSummary next = new RunLauncher(Plan(dataset, output, () => s_afterMidnight.AddDays(2))).Execute(new Processors(), new QuietObserver(), CancellationToken.None);
        Assert.Equal(identity.RunIdFor(s_afterMidnight.AddDays(2)), next.RunId);
    }

    [Fact]
    public void AMarkerOfAnotherRunIsNeitherListedNorRemovedWithThisOne()
    {
        using var dir = new TestDirectory();
        string dataset = WriteDataset(dir, 3);
        string output = dir.File("out");
        RunIdentity identity = RunIdentity.Create(dataset, "m", null, 0);
        string marker = MarkerPath(output, identity);
        RunSummary marked = new RunLauncher(Plan(dataset, output, () => s_afterMidnight)).Execute(new Processors(), new QuietObserver(), CancellationToken.None);
        RunPlan other = Plan(dataset, output, () => s_afterMidnight);
        other.RunId = identity.RunIdFor(new DateTime(2026, 11, 1));
        new RunLauncher(other).Execute(new Processors(), new QuietObserver(), CancellationToken.None);

        Assert.Equal(new[] { other.RunId, marked.RunId }, RunSet.Find(output).Select(r => r.RunId));
        RunSet older = RunSet.Find(output, id => id == other.RunId).Single();
        Assert.DoesNotContain(marker, older.AllFiles());
        older.Remove();

        Assert.Equal(marked.RunId + "\n", File.ReadAllText(marker));
    }

    private static string MarkerPath(string output, RunIdentity identity) =>
        Path.Combine(output, identity.DatasetName + "_" + identity.Model + "_" + identity.ConfigHash + ".runid");

    private static string WriteDataset(TestDirectory dir, int rows)
    {
        string dataset = dir.File("data.csv");
        File.WriteAllText(dataset, "id,q\n" + string.Concat(Enumerable.Range(1, rows).Select(i => $"s{i},x\n")));
        return dataset;
    }

    private static RunPlan Plan(string dataset, string output, Func<DateTime> clock) =>
        new() { Definition = { DatasetPath = dataset, Model = "m", CheckpointEvery = 1 }, OutputDirectory = output, UtcNow = clock };

    private sealed class Processors : ISampleProcessorFactory
    {
        public ISampleProcessor? CreateInline() => new Processor();

        public ISampleProcessor CreateWorker(Action<object> streamed) => new Processor();

        private sealed class Processor : ISampleProcessor
        {
            public SampleOutcome Process(Sample sample, SampleContext context, CancellationToken cancellationToken) => SampleOutcome.Success("1");

            public void Dispose()
            {
            }
        }
    }
}
