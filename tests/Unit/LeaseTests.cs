using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Checkpoint.Runs;
using Checkpoint.Store;
using Xunit;
using Checkpoint.Sharding;

namespace Checkpoint.Tests;

/// <summary>
/// The lease that keeps a run part to one writer across the nodes of a shared file system. Another node is
/// stood for by options with another host name; a paused or partitioned holder by one that does not renew.
/// </summary>
public sealed class LeaseTests
{
    private const string RunId = "20261128_data_model_0123abcd";

    private static LeaseOptions Node(string host, double seconds = 30, bool renew = true) => new()
    {
        Host = host,
        Timeout = TimeSpan.FromSeconds(seconds),
        Renew = renew,
    };

    [Fact]
    public void ALiveLeaseOfAnotherNodeIsRefusedAtOnceNamingItsHostAndProcess()
    {
        using var dir = new TestDirectory();
        string path = dir.File("part.lock.json");
        using RunLease held = RunLease.Acquire(path, Node("node-a"));
        var clock = Stopwatch.StartNew();
        RunLockedException e = Assert.Throws<RunLockedException>(() => RunLease.Acquire(path, Node("node-b")));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "a fresh lease is refused without waiting");
        Assert.Equal(ErrorIds.RunLocked, e.ErrorId);
        Assert.Contains("node-a", e.Message, StringComparison.Ordinal);
        Assert.Contains("process " + Environment.ProcessId, e.Message, StringComparison.Ordinal);
        held.Verify();
    }

    [Fact]
    public void ALeaseThatIsNoLongerRenewedIsTakenOverAfterTheTimeoutAndItsHolderWritesNoMore()
    {
        using var dir = new TestDirectory();
        string path = dir.File("part.lock.json");
        using RunLease paused = RunLease.Acquire(path, Node("node-a", seconds: 1.5, renew: false));
        string before = File.ReadAllText(path);

        // Past half the timeout it has missed a renewal; the taker watches it for a whole timeout more.
        Thread.Sleep(TimeSpan.FromSeconds(1));
        var clock = Stopwatch.StartNew();
        using RunLease taker = RunLease.Acquire(path, Node("node-b", seconds: 1.5));
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1.4), $"taken over after {clock.Elapsed.TotalSeconds:0.00} s, before the timeout");
        Assert.NotEqual(before, File.ReadAllText(path));
        Assert.Contains("\"host\":\"node-b\"", File.ReadAllText(path), StringComparison.Ordinal);

        CheckpointException lost = Assert.Throws<CheckpointException>(paused.Verify);
        Assert.Equal(ErrorIds.LeaseLost, lost.ErrorId);
        taker.Verify();

        // The old holder's release leaves the new holder's lease as it is.
        string now = File.ReadAllText(path);
        paused.Dispose();
        Assert.Equal(now, File.ReadAllText(path));
        taker.Verify();
    }

    [Fact]
    public void ARenewedLeaseIsNeverTakenOver()
    {
        using var dir = new TestDirectory();
        string path = dir.File("part.lock.json");
        // A timeout long enough that a loaded machine does not hold the renewal thread back past the self-fence.
        using RunLease held = RunLease.Acquire(path, Node("node-a", seconds: 3));
        Thread.Sleep(TimeSpan.FromSeconds(6));
        Assert.Throws<RunLockedException>(() => RunLease.Acquire(path, Node("node-b", seconds: 3)));
        held.Verify();
    }

    [Fact]
    public void AHolderThatWentTwoThirdsOfTheTimeoutWithoutRenewalStopsItselfEvenWhenNobodyTookOver()
    {
        using var dir = new TestDirectory();
        string path = dir.File("part.lock.json");
        using RunLease paused = RunLease.Acquire(path, Node("node-a", seconds: 1.5, renew: false));
        paused.Verify();
        Thread.Sleep(TimeSpan.FromSeconds(1.3));
        CheckpointException lost = Assert.Throws<CheckpointException>(paused.Verify);
        Assert.Equal(ErrorIds.LeaseLost, lost.ErrorId);
        Assert.Contains("not renewed", lost.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ALeaseOfADeadProcessOfThisHostIsTakenAtOnce()
    {
        using var dir = new TestDirectory();
        string path = dir.File("part.lock.json");
        int deadPid;
        using (Process exited = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!)
        {
            exited.WaitForExit();
            deadPid = exited.Id;
        }

        var dead = new LeaseOptions { Host = Environment.MachineName, ProcessId = deadPid, ProcessStart = DateTime.UtcNow.AddMinutes(-1), Timeout = TimeSpan.FromSeconds(60), Renew = false };
        RunLease.Acquire(path, dead).Dispose();
        // Dispose marks it released; make it a holder that died instead, as a killed process leaves it.
        File.WriteAllText(path, File.ReadAllText(path).Replace("\"released\":true", "\"released\":false", StringComparison.Ordinal));

        var clock = Stopwatch.StartNew();
        using RunLease mine = RunLease.Acquire(path, new LeaseOptions { Timeout = TimeSpan.FromSeconds(60) });
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"took {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.Contains("\"pid\":" + Environment.ProcessId, File.ReadAllText(path), StringComparison.Ordinal);
    }

    [Fact]
    public void AReleasedLeaseOrOneOfThePreviousReleaseIsTakenAtOnce()
    {
        using var dir = new TestDirectory();
        string path = dir.File("part.lock.json");
        RunLease.Acquire(path, Node("node-a", seconds: 60)).Dispose();
        Assert.Contains("\"released\":true", File.ReadAllText(path), StringComparison.Ordinal);
        Assert.False(RunLease.Probe(path, Node("node-b")).Live);
        using (RunLease.Acquire(path, Node("node-b", seconds: 60)))
        {
            Assert.True(RunLease.Probe(path, Node("node-c")).Live);
        }

        File.WriteAllText(path, "{\"pid\":4242,\"host\":\"node-z\",\"since\":\"2026-11-28T12:00:00Z\"}");
        var clock = Stopwatch.StartNew();
        using RunLease taken = RunLease.Acquire(path, Node("node-b", seconds: 60));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20));
    }

    [Fact]
    public void OfManyNodesTakingOverOneStaleLeaseExactlyOneWins()
    {
        using var dir = new TestDirectory();
        string path = dir.File("part.lock.json");
        using RunLease paused = RunLease.Acquire(path, Node("node-a", seconds: 1, renew: false));
        Thread.Sleep(TimeSpan.FromSeconds(0.7));
        const int Takers = 8;
        var won = new List<RunLease>();
        int refused = 0;
        using var start = new Barrier(Takers);
        Parallel.For(0, Takers, new ParallelOptions { MaxDegreeOfParallelism = Takers }, i =>
        {
            start.SignalAndWait();
            try
            {
                RunLease lease = RunLease.Acquire(path, Node("node-" + i, seconds: 1));
                lock (won)
                {
                    won.Add(lease);
                }
            }
            catch (RunLockedException)
            {
                Interlocked.Increment(ref refused);
            }
        });

        try
        {
            Assert.Single(won);
            Assert.Equal(Takers - 1, refused);
            won[0].Verify();
            Assert.Empty(Directory.GetFiles(dir.Path, "*.takeover-*"));
        }
        finally
        {
            won.ForEach(l => l.Dispose());
        }
    }

    [Fact]
    public void AProbeOfAnotherHostsLeaseGoesByItsLastRenewalAndChangesNothing()
    {
        using var dir = new TestDirectory();
        string path = dir.File("part.lock.json");
        using RunLease paused = RunLease.Acquire(path, Node("node-a", seconds: 1, renew: false));
        byte[] before = File.ReadAllBytes(path);
        Assert.True(RunLease.Probe(path, Node("node-b", seconds: 1)).Live);
        Thread.Sleep(TimeSpan.FromSeconds(1.5));
        (bool live, LockHolder? holder) = RunLease.Probe(path, Node("node-b", seconds: 1));
        Assert.False(live);
        Assert.Equal("node-a", holder!.Host);
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    [Fact]
    public void AWriterWhoseLeaseWasTakenOverWritesNothingMore()
    {
        using var dir = new TestDirectory();
        var files = new RunFiles(dir.Path, RunId);
        using CheckpointStore store = CheckpointStore.Open(files, lease: Node(Environment.MachineName, seconds: 60));
        store.Append(Records.Completed("a"));
        byte[] written = File.ReadAllBytes(files.ResultsPath);

        // Another node takes the part over: its lease is renamed over this one.
        string temp = files.LeasePath + ".other";
        File.WriteAllText(temp, File.ReadAllText(files.LeasePath).Replace(Environment.MachineName, "node-b", StringComparison.Ordinal));
        File.Move(temp, files.LeasePath, overwrite: true);

        CheckpointException e = Assert.Throws<CheckpointException>(() => store.Append(Records.Completed("b")));
        Assert.Equal(ErrorIds.LeaseLost, e.ErrorId);
        Assert.Contains("node-b", e.Message, StringComparison.Ordinal);
        Assert.Throws<CheckpointException>(() => store.Append(new[] { (Records.Completed("c"), (string?)null) }));
        store.Close(RunStatus.Interrupted);
        Assert.Equal(written, File.ReadAllBytes(files.ResultsPath));
        Assert.False(File.Exists(files.StatePath), "a writer that lost its lease writes no state either");
    }

    [Fact]
    public void AWriterStopsWhenItsResultsFileGrewUnderItOrVanishedAndNeverCreatesItAgain()
    {
        using var dir = new TestDirectory();
        var files = new RunFiles(dir.Path, RunId);
        using (CheckpointStore store = CheckpointStore.Open(files))
        {
            store.Append(Records.Completed("a"));
            File.AppendAllText(files.ResultsPath, "another writer's bytes\n");
            byte[] grown = File.ReadAllBytes(files.ResultsPath);
            CheckpointException e = Assert.Throws<CheckpointException>(() => store.Append(Records.Completed("b")));
            Assert.Equal(ErrorIds.LeaseLost, e.ErrorId);
            Assert.Equal(grown, File.ReadAllBytes(files.ResultsPath));
        }

        File.Delete(files.ResultsPath);
        using (CheckpointStore store = CheckpointStore.Open(files))
        {
            store.Append(Records.Completed("a"));
            File.Delete(files.ResultsPath);
            CheckpointException e = Assert.Throws<CheckpointException>(() => store.Append(Records.Completed("b")));
            Assert.Equal(ErrorIds.LeaseLost, e.ErrorId);
            store.Dispose();
            Assert.False(File.Exists(files.ResultsPath));
        }
    }

    [Fact]
    public void APartThatOverlapsALivePartOfTheRunIsRefusedNamingIt()
    {
        using var dir = new TestDirectory();
        var shard = new RunFiles(dir.Path, RunId, new ShardSpec(3, 4));
        using CheckpointStore running = CheckpointStore.Open(shard);
        RunLockedException e = Assert.Throws<RunLockedException>(() => CheckpointStore.Open(new RunFiles(dir.Path, RunId)));
        Assert.Contains("shard 3/4", e.Message, StringComparison.Ordinal);
        Assert.Throws<RunLockedException>(() => CheckpointStore.Open(new RunFiles(dir.Path, RunId, new ShardSpec(1, 2))));
        using CheckpointStore apart = CheckpointStore.Open(new RunFiles(dir.Path, RunId, new ShardSpec(2, 2)));
        using CheckpointStore sibling = CheckpointStore.Open(new RunFiles(dir.Path, RunId, new ShardSpec(1, 4)));
    }

    [Theory]
    [InlineData(1, 2, 2, 2)]
    [InlineData(1, 2, 1, 4)]
    [InlineData(1, 2, 2, 4)]
    [InlineData(2, 3, 4, 6)]
    [InlineData(1, 3, 2, 4)]
    [InlineData(2, 4, 3, 6)]
    [InlineData(1, 4, 2, 6)]
    public void ShardsOverlapExactlyWhenSomeSampleFallsInBoth(int k, int n, int j, int m)
    {
        bool shared = Enumerable.Range(0, 20000).Select(i => "id-" + i).Any(id => ShardMembership.IndexOf(id, n) == k - 1 && ShardMembership.IndexOf(id, m) == j - 1);
        Assert.Equal(shared, ShardSpec.Overlap(new ShardSpec(k, n), new ShardSpec(j, m)));
        Assert.Equal(shared, ShardSpec.Overlap(new ShardSpec(j, m), new ShardSpec(k, n)));
        Assert.True(ShardSpec.Overlap(null, new ShardSpec(k, n)));
    }

    [Fact]
    public void ARemovalRefusesALivePartAndDeletesNothing()
    {
        using var dir = new TestDirectory();
        var files = new RunFiles(dir.Path, RunId);
        using (CheckpointStore store = CheckpointStore.Open(files))
        {
            store.Append(Records.Completed("a"));
            store.Close(RunStatus.Completed);
        }

        using CheckpointStore shard = CheckpointStore.Open(new RunFiles(dir.Path, RunId, new ShardSpec(2, 2)), lease: Node(Environment.MachineName), notify: null);
        string[] before = Directory.GetFiles(dir.Path).OrderBy(f => f, StringComparer.Ordinal).ToArray();
        RunSet set = RunSet.Find(dir.Path).Single();
        Assert.Throws<RunLockedException>(() => set.Remove());
        Assert.Equal(before, Directory.GetFiles(dir.Path).OrderBy(f => f, StringComparer.Ordinal).ToArray());
    }

    [Fact]
    public void ARemovalTakesEveryPartAndLeavesNoFileOfTheRun()
    {
        using var dir = new TestDirectory();
        foreach (ShardSpec? part in new[] { null, new ShardSpec(1, 2), new ShardSpec(2, 2) })
        {
            using CheckpointStore store = CheckpointStore.Open(new RunFiles(dir.Path, RunId, part));
            store.Append(Records.Completed("a" + part?.Index));
            store.Close(RunStatus.Incomplete);
        }

        string[] before = Directory.GetFiles(dir.Path).OrderBy(f => f, StringComparer.Ordinal).ToArray();
        IReadOnlyList<string> deleted = RunSet.Find(dir.Path).Single().Remove();
        Assert.Empty(Directory.GetFiles(dir.Path));
        Assert.Equal(before, deleted.OrderBy(f => f, StringComparer.Ordinal).ToArray());
        Assert.EndsWith("_resume_state.json", deleted[0], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(unchecked((int)0x80070020), true, false, true)]
    [InlineData(unchecked((int)0x80070021), true, false, true)]
    [InlineData(unchecked((int)0x80070005), true, false, false)]
    [InlineData(11, false, false, true)]
    [InlineData(35, false, true, true)]
    [InlineData(11, false, true, false)]
    [InlineData(5, false, false, false)]
    [InlineData(30, false, false, false)]
    public void OnlyASharingViolationReadsAsALockHeld(int hresult, bool windows, bool mac, bool held)
    {
        Assert.Equal(held, Checkpoint.IO.IoErrors.IsSharingViolation(hresult, windows, mac));
    }

    [Fact]
    public void TheLeaseTimeoutIsASettingInSecondsAndABadValueIsRefusedWithItsId()
    {
        Assert.Equal(LeaseOptions.DefaultTimeout, LeaseOptions.FromSetting(null).Timeout);
        Assert.Equal(LeaseOptions.DefaultTimeout, LeaseOptions.FromSetting(" ").Timeout);
        Assert.Equal(TimeSpan.FromSeconds(12.5), LeaseOptions.FromSetting("12.5").Timeout);
        foreach (string bad in new[] { "0", "-3", "soon", "NaN", "100000" })
        {
            CheckpointException e = Assert.Throws<CheckpointException>(() => LeaseOptions.FromSetting(bad));
            Assert.Equal(ErrorIds.InvalidLeaseSeconds, e.ErrorId);
            Assert.Contains(LeaseOptions.TimeoutVariable, e.Message, StringComparison.Ordinal);
        }
    }
}
