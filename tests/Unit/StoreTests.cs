using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using Checkpoint.Store;
using Xunit;
using Checkpoint.Sharding;

namespace Checkpoint.Tests;

public sealed class StoreTests
{
    private const string RunId = "20261128_data_model_0123abcd";

    [Fact]
    public void OutputThatIsNotJsonIsRefusedUnlessAJsonWriterOfTheRunWroteIt()
    {
        var buffer = new Checkpoint.IO.GrowableBuffer();
        System.Text.Json.Utf8JsonWriter? writer = null;
        string Encode(string json, bool checkedJson)
        {
            CheckpointRecord record = Records.Completed("a");
            buffer.Clear();
            RecordCodec.Encode(
                new CheckpointRecord { SampleId = record.SampleId, Status = record.Status, Attempt = record.Attempt, StartedAt = record.StartedAt, CompletedAt = record.CompletedAt, DurationMs = record.DurationMs, OutputJson = json, OutputJsonChecked = checkedJson },
                buffer,
                ref writer);
            return Encoding.UTF8.GetString(buffer.Array, 0, buffer.Count);
        }

        string json = "{\"answer\":\"ok\",\"n\":[1,{\"deep\":null}]}";
        Assert.Equal(Encode(json, checkedJson: false), Encode(json, checkedJson: true));
        Assert.Contains("\"output\":" + json + ",", Encode(json, checkedJson: true), StringComparison.Ordinal);
        Assert.ThrowsAny<System.Text.Json.JsonException>(() => Encode("{\"answer\": ", checkedJson: false));
        Assert.ThrowsAny<System.Text.Json.JsonException>(() => Encode("not json", checkedJson: false));
    }

    [Fact]
    public void AppendedRecordsLoadBackAndTheLatestRecordWins()
    {
        using var dir = new TestDirectory();
        var files = new RunFiles(dir.Path, RunId);
        using (CheckpointStore store = CheckpointStore.Open(files))
        {
            store.Append(Records.Completed("a"));
            store.Append(Records.Failed("b", attempt: 1));
            store.Append(Records.Failed("c", attempt: 1));
            store.Append(Records.Completed("c", "second", attempt: 2));
            store.Close(RunStatus.Incomplete);
        }

        CheckpointIndex index = CheckpointLoader.Load(files.ResultsPath);
        Assert.Empty(index.Issues);
        Assert.Equal(4, index.RecordCount);
        Assert.Equal(2, index.CompletedCount);
        Assert.Equal(1, index.FailedCount);
        Assert.Equal(2, index.ErrorCount);
        Assert.True(index.IsCompleted("c"));
        Assert.False(index.IsCompleted("b"));
        CheckpointRecord c = index.ReadLatestRecords((id, _) => id == "c").Single();
        Assert.Equal(2, c.Attempt);
        Assert.Contains("\"second\"", c.OutputJson, StringComparison.Ordinal);
        CheckpointRecord b = index.ReadLatestRecords((id, _) => id == "b").Single();
        Assert.Equal(RecordStatus.Failed, b.Status);
        Assert.Equal(503, b.Error!.HttpStatus);
        Assert.True(b.Error.Transient);
    }

    [Fact]
    public void RecordsWhoseLinesEndCrLfLoadAsTheyAreAndTheStoreAppendsAfterThem()
    {
        // What a Windows editor, or git with autocrlf, makes of the file.
        using var dir = new TestDirectory();
        var files = new RunFiles(dir.Path, RunId);
        using (CheckpointStore store = CheckpointStore.Open(files))
        {
            store.Append(Records.Completed("a", "first"));
            store.Append(Records.Failed("b"));
            store.Append(Records.Completed("c"));
            store.Close(RunStatus.Incomplete);
        }

        byte[] crlf = Encoding.UTF8.GetBytes(File.ReadAllText(files.ResultsPath, Encoding.UTF8).Replace("\n", "\r\n"));
        File.WriteAllBytes(files.ResultsPath, crlf);

        CheckpointIndex index = CheckpointLoader.Load(files.ResultsPath);
        Assert.Empty(index.Issues);
        Assert.Equal(3, index.RecordCount);
        Assert.Equal(2, index.CompletedCount);
        Assert.Equal(1, index.FailedCount);
        Assert.Contains("\"first\"", index.ReadLatestRecords((id, _) => id == "a").Single().OutputJson, StringComparison.Ordinal);

        using (CheckpointStore store = CheckpointStore.Open(files))
        {
            Assert.Empty(store.Warnings);
            Assert.Equal(2, store.Index.CompletedCount);
            store.Append(Records.Completed("b", "second", attempt: 2));
            store.Close(RunStatus.Completed);
        }

        byte[] after = File.ReadAllBytes(files.ResultsPath);
        Assert.Equal(crlf, after.Take(crlf.Length).ToArray());
        Assert.Equal((byte)'\n', after[after.Length - 1]);
        Assert.Empty(Directory.GetFiles(dir.Path, "*.damaged*"));
        index = CheckpointLoader.Load(files.ResultsPath);
        Assert.Empty(index.Issues);
        Assert.Equal(3, index.CompletedCount);
        Assert.Equal(new[] { "a", "b", "c" }, index.ReadLatestRecords().Select(r => r.SampleId).OrderBy(id => id, StringComparer.Ordinal).ToArray());
    }

    [Fact]
    public void EveryLineIsValidJsonWithTheRequiredFieldsAndAChecksum()
    {
        using var dir = new TestDirectory();
        var files = new RunFiles(dir.Path, RunId);
        using (CheckpointStore store = CheckpointStore.Open(files))
        {
            store.Append(Records.Completed("q1"));
            store.Append(Records.Failed("q2"));
            store.Close(RunStatus.Incomplete);
        }

        string[] lines = File.ReadAllLines(files.ResultsPath);
        Assert.Equal(2, lines.Length);
        foreach (string line in lines)
        {
            using var document = System.Text.Json.JsonDocument.Parse(line);
            var names = document.RootElement.EnumerateObject().Select(p => p.Name).ToList();
            foreach (string required in new[] { "v", "sample_id", "status", "attempt", "started_at", "completed_at", "duration_ms", "output", "error", "crc" })
            {
                Assert.Contains(required, names);
            }

            Assert.Equal("crc", names.Last());
        }

        string errors = File.ReadAllText(files.ErrorLogPath);
        Assert.Contains("sample q2", errors, StringComparison.Ordinal);
        Assert.Contains("System.TimeoutException", errors, StringComparison.Ordinal);
        Assert.Contains("503", errors, StringComparison.Ordinal);
    }

    [Fact]
    public void TruncationAtEveryByteOfTheLastRecordsLosesOnlyTheCutRecordsAndIsRepaired()
    {
        using var dir = new TestDirectory();
        var source = new RunFiles(dir.Path, RunId);
        using (CheckpointStore store = CheckpointStore.Open(source))
        {
            for (int i = 0; i < 20; i++)
            {
                store.Append(Records.Completed("s" + i, new string('y', 280)));
            }

            store.Close(RunStatus.Completed);
        }

        byte[] whole = File.ReadAllBytes(source.ResultsPath);
        var lineEnds = new List<int>();
        for (int i = 0; i < whole.Length; i++)
        {
            if (whole[i] == (byte)'\n')
            {
                lineEnds.Add(i + 1);
            }
        }

        int firstCut = lineEnds[lineEnds.Count - 4];
        string cutDir = Path.Combine(dir.Path, "cut");
        for (int cut = firstCut; cut <= whole.Length; cut++)
        {
            if (Directory.Exists(cutDir))
            {
                Directory.Delete(cutDir, recursive: true);
            }

            Directory.CreateDirectory(cutDir);
            var files = new RunFiles(cutDir, RunId);
            File.WriteAllBytes(files.ResultsPath, whole.AsSpan(0, cut).ToArray());
            int wholeLines = lineEnds.Count(e => e <= cut);
            int lastGood = lineEnds.Where(e => e <= cut).DefaultIfEmpty(0).Max();

            CheckpointIndex index = CheckpointLoader.Load(files.ResultsPath);
            Assert.Equal(wholeLines, index.CompletedCount);
            Assert.Equal(lastGood, index.Files[0].ValidLength);
            Assert.Equal(cut != lastGood, index.Files[0].DamagedTail is not null);
            Assert.DoesNotContain(index.Issues, i => i.Kind == LoadIssueKind.BadLine);

            using (CheckpointStore store = CheckpointStore.Open(files))
            {
                Assert.Equal(cut == lastGood ? 0 : 1, store.Warnings.Count(w => w.Contains("damaged byte", StringComparison.Ordinal)));
                store.Append(Records.Completed("after"));
                store.Close(RunStatus.Incomplete);
            }

            byte[] repaired = File.ReadAllBytes(files.ResultsPath);
            Assert.True(repaired.AsSpan(0, lastGood).SequenceEqual(whole.AsSpan(0, lastGood)));
            CheckpointIndex reloaded = CheckpointLoader.Load(files.ResultsPath);
            Assert.Empty(reloaded.Issues);
            Assert.Equal(wholeLines + 1, reloaded.CompletedCount);
            string[] sidecars = Directory.GetFiles(cutDir, "*.damaged-*");
            if (cut == lastGood)
            {
                Assert.Empty(sidecars);
            }
            else
            {
                Assert.Equal(whole.AsSpan(lastGood, cut - lastGood).ToArray(), File.ReadAllBytes(Assert.Single(sidecars)));
            }
        }
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("nul")]
    [InlineData("half-record-with-newline")]
    public void AGarbageOrNulTailIsCutOffKeptInASidecarAndNeverCountsAsData(string kind)
    {
        using var dir = new TestDirectory();
        var files = new RunFiles(dir.Path, RunId);
        using (CheckpointStore store = CheckpointStore.Open(files))
        {
            store.Append(Records.Completed("a"));
            store.Append(Records.Completed("b"));
            store.Close(RunStatus.Incomplete);
        }

        long goodLength = new FileInfo(files.ResultsPath).Length;
        byte[] tail = kind switch
        {
            "garbage" => Encoding.UTF8.GetBytes("{\"v\":1,\"sample_id\":\"zz\",\"status\":\"completed\"}\nnot json at all\n\u00ff\u00fe"),
            "nul" => new byte[4096],
            _ => Encoding.UTF8.GetBytes("{\"v\":1,\"sample_id\":\"c\",\"status\":\"compl\n"),
        };
        using (var stream = new FileStream(files.ResultsPath, FileMode.Append))
        {
            stream.Write(tail, 0, tail.Length);
        }

        CheckpointIndex damaged = CheckpointLoader.Load(files.ResultsPath);
        Assert.Equal(2, damaged.CompletedCount);
        Assert.False(damaged.IsCompleted("zz"));
        Assert.False(damaged.IsCompleted("c"));
        Assert.Equal(goodLength, damaged.Files[0].ValidLength);
        Assert.NotNull(damaged.Files[0].DamagedTail);

        using (CheckpointStore store = CheckpointStore.Open(files))
        {
            Assert.Contains(store.Warnings, w => w.Contains("kept in", StringComparison.Ordinal));
            store.Append(Records.Completed("c"));
            store.Close(RunStatus.Completed);
        }

        Assert.Equal(tail, File.ReadAllBytes(Assert.Single(Directory.GetFiles(dir.Path, "*.damaged-*"))));
        CheckpointIndex repaired = CheckpointLoader.Load(files.ResultsPath);
        Assert.Empty(repaired.Issues);
        Assert.Equal(3, repaired.CompletedCount);
        Assert.DoesNotContain((byte)0, File.ReadAllBytes(files.ResultsPath));
    }

    [Fact]
    public void ABadLineInTheMiddleIsReportedWithItsLineNumberAndSkipped()
    {
        using var dir = new TestDirectory();
        var files = new RunFiles(dir.Path, RunId);
        using (CheckpointStore store = CheckpointStore.Open(files))
        {
            for (int i = 1; i <= 5; i++)
            {
                store.Append(Records.Completed("s" + i));
            }

            store.Close(RunStatus.Completed);
        }

        string[] lines = File.ReadAllLines(files.ResultsPath);
        lines[2] = lines[2].Replace("\"ok\"", "\"OK\"", StringComparison.Ordinal);
        File.WriteAllText(files.ResultsPath, string.Join("\n", lines) + "\n");

        CheckpointIndex index = CheckpointLoader.Load(files.ResultsPath);
        LoadIssue issue = Assert.Single(index.Issues);
        Assert.Equal(LoadIssueKind.BadLine, issue.Kind);
        Assert.Equal(3, issue.LineNumber);
        Assert.False(index.IsCompleted("s3"));
        Assert.Equal(4, index.CompletedCount);
        Assert.Contains("line 3", issue.ToString(), StringComparison.Ordinal);

        using CheckpointStore reopened = CheckpointStore.Open(files);
        Assert.Contains(reopened.Warnings, w => w.Contains("line 3", StringComparison.Ordinal));
        Assert.Equal(4, reopened.Index.CompletedCount);
    }

    [Fact]
    public void EverySingleBitFlipInARecordIsDetectedAndNeverReturnedAsData()
    {
        using var dir = new TestDirectory();
        var files = new RunFiles(dir.Path, RunId);
        using (CheckpointStore store = CheckpointStore.Open(files))
        {
            for (int i = 0; i < 3; i++)
            {
                store.Append(Records.Completed("s" + i, "value" + i));
            }

            store.Close(RunStatus.Completed);
        }

        byte[] original = File.ReadAllBytes(files.ResultsPath);
        int start = Array.IndexOf(original, (byte)'\n') + 1;
        int end = Array.IndexOf(original, (byte)'\n', start);
        string flipped = Path.Combine(dir.Path, "flipped.jsonl");
        int detected = 0;
        for (int position = start; position <= end; position++)
        {
            for (int bit = 0; bit < 8; bit++)
            {
                byte[] copy = (byte[])original.Clone();
                copy[position] ^= (byte)(1 << bit);
                File.WriteAllBytes(flipped, copy);
                CheckpointIndex index = CheckpointLoader.Load(flipped);
                Assert.False(index.IsCompleted("s1"), $"bit {bit} of byte {position} went unnoticed");
                Assert.True(index.IsCompleted("s0"));
                Assert.NotEmpty(index.Issues);
                foreach (CheckpointRecord record in index.ReadLatestRecords())
                {
                    Assert.Contains("value" + record.SampleId.Substring(1), record.OutputJson, StringComparison.Ordinal);
                }

                detected++;
            }
        }

        Assert.Equal((end - start + 1) * 8, detected);
    }

    [Fact]
    public void BackgroundCheckpointsComeAtMostOnceAMinimumIntervalAndCloseStillSyncsEveryRecord()
    {
        using var dir = new TestDirectory();
        var files = new RunFiles(dir.Path, RunId);
        const int Count = 40;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using (CheckpointStore store = CheckpointStore.Open(files, checkpointEvery: 1))
        {
            int before = store.CheckpointsCompleted;
            for (int i = 0; i < Count; i++)
            {
                // Every append asks for a checkpoint; without the interval each would get one.
                store.Append(Records.Completed("s" + i));
                System.Threading.Thread.Sleep(5);
            }

            int taken = store.CheckpointsCompleted - before;
            double allowed = (clock.Elapsed.TotalMilliseconds / CheckpointStore.MinCommitInterval.TotalMilliseconds) + 2;
            Assert.InRange(taken, 1, allowed);
            Assert.True(taken < Count, $"{taken} checkpoints for {Count} records");
            store.Close(RunStatus.Completed);
        }

        StateReadResult state = StateFile.Read(files.StatePath);
        Assert.Equal(Count, state.State!.CompletedSamples);
        Assert.Equal(Count, CheckpointLoader.Load(files.ResultsPath).CompletedCount);
    }

    [Fact]
    public void ManyThreadsAppendingAtOnceNeverTearOrInterleaveARecord()
    {
        using var dir = new TestDirectory();
        var files = new RunFiles(dir.Path, RunId);
        const int Threads = 8;
        const int PerThread = 2000;
        using (CheckpointStore store = CheckpointStore.Open(files, checkpointEvery: 100))
        {
            Parallel.For(0, Threads, new ParallelOptions { MaxDegreeOfParallelism = Threads }, t =>
            {
                for (int i = 0; i < PerThread; i++)
                {
                    store.Append(Records.Completed($"t{t}-{i}", new string((char)('a' + t), 100 + (i % 200))));
                }
            });
            Assert.Equal(Threads * PerThread, store.Index.CompletedCount);
            store.Close(RunStatus.Completed);
        }

        CheckpointIndex index = CheckpointLoader.Load(files.ResultsPath);
        Assert.Empty(index.Issues);
        Assert.Equal(Threads * PerThread, index.CompletedCount);
        Assert.Equal(Threads * PerThread, index.RecordCount);
        Assert.Equal(Threads * PerThread, File.ReadAllLines(files.ResultsPath).Length);
        StateReadResult state = StateFile.Read(files.StatePath);
        Assert.Equal(StateReadStatus.Valid, state.Status);
        Assert.Equal(Threads * PerThread, state.State!.CompletedSamples);
        Assert.Equal(RunStatus.Completed, state.State.Status);
    }

    [Fact]
    public void ASecondOpenOfTheSameRunFailsFastNamingTheHolderAndSucceedsAfterRelease()
    {
        using var dir = new TestDirectory();
        var files = new RunFiles(dir.Path, RunId);
        using (CheckpointStore first = CheckpointStore.Open(files))
        {
            Assert.True(RunLock.Probe(files, new LeaseOptions()).Live);
            RunLockedException e = Assert.Throws<RunLockedException>(() => CheckpointStore.Open(files));
            Assert.Equal(ErrorIds.RunLocked, e.ErrorId);
            Assert.Equal(Environment.ProcessId, e.Holder!.ProcessId);
            Assert.Contains("process " + Environment.ProcessId, e.Message, StringComparison.Ordinal);
            Assert.Contains(Environment.MachineName, e.Message, StringComparison.Ordinal);
            first.Close(RunStatus.Incomplete);
        }

        Assert.False(RunLock.Probe(files, new LeaseOptions()).Live);
        using CheckpointStore second = CheckpointStore.Open(files);
        Assert.True(RunLock.Probe(files, new LeaseOptions()).Live);
    }

    [Fact]
    public void ShardsOfOneRunHaveTheirOwnFilesAndLocks()
    {
        using var dir = new TestDirectory();
        var shard1 = new RunFiles(dir.Path, RunId, new ShardSpec(1, 2));
        var shard2 = new RunFiles(dir.Path, RunId, new ShardSpec(2, 2));
        using CheckpointStore a = CheckpointStore.Open(shard1);
        using CheckpointStore b = CheckpointStore.Open(shard2);
        a.Append(Records.Completed("x"));
        b.Append(Records.Completed("y"));
        a.Close(RunStatus.Completed);
        b.Close(RunStatus.Completed);
        Assert.EndsWith("_shard-1-of-2.jsonl", shard1.ResultsPath, StringComparison.Ordinal);
        Assert.EndsWith("_shard-2-of-2_resume_state.json", shard2.StatePath, StringComparison.Ordinal);
        CheckpointIndex merged = CheckpointLoader.Load(new[] { shard1.ResultsPath, shard2.ResultsPath });
        Assert.Equal(2, merged.CompletedCount);
    }

    [Fact]
    public void ARecordOfANewerFormatVersionIsRefusedWithBothVersionsNamed()
    {
        using var dir = new TestDirectory();
        var files = new RunFiles(dir.Path, RunId);
        using (CheckpointStore store = CheckpointStore.Open(files))
        {
            store.Append(Records.Completed("a"));
            store.Close(RunStatus.Completed);
        }

        // A newer writer's record: same layout, version 2, with a correct checksum.
        string line = File.ReadAllText(files.ResultsPath).TrimEnd('\n');
        string body = line.Substring(0, line.Length - RecordCodec.CrcSuffixLength).Replace("{\"v\":1,", "{\"v\":2,", StringComparison.Ordinal) + "}";
        uint crc = Checkpoint.IO.Crc32C.Compute(Encoding.UTF8.GetBytes(body));
        string newer = body.Substring(0, body.Length - 1) + ",\"crc\":\"" + crc.ToString("x8", System.Globalization.CultureInfo.InvariantCulture) + "\"}\n";
        File.AppendAllText(files.ResultsPath, newer);
        byte[] before = File.ReadAllBytes(files.ResultsPath);

        CheckpointFormatException e = Assert.Throws<CheckpointFormatException>(() => CheckpointStore.Open(files));
        Assert.Equal(ErrorIds.NewerFormatVersion, e.ErrorId);
        Assert.Contains("version 2", e.Message, StringComparison.Ordinal);
        Assert.Contains("up to 1", e.Message, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(files.ResultsPath));
        Assert.False(RunLock.Probe(files, new LeaseOptions()).Live);
    }

    [Theory]
    [InlineData("missing")]
    [InlineData("damaged")]
    public void AMissingOrDamagedStateFileIsRebuiltFromTheJsonlWithAWarning(string how)
    {
        using var dir = new TestDirectory();
        var files = new RunFiles(dir.Path, RunId);
        using (CheckpointStore store = CheckpointStore.Open(files))
        {
            store.Append(Records.Completed("a"));
            store.Append(Records.Failed("b"));
            store.Close(RunStatus.Incomplete);
        }

        if (how == "missing")
        {
            File.Delete(files.StatePath);
        }
        else
        {
            File.WriteAllText(files.StatePath, "{\"format_version\": 1, \"run_");
        }

        using (CheckpointStore store = CheckpointStore.Open(files))
        {
            Assert.Contains(store.Warnings, w => w.Contains("rebuilt", StringComparison.Ordinal));
            Assert.Equal(1, store.Index.CompletedCount);
            store.Close(RunStatus.Incomplete);
        }

        StateReadResult state = StateFile.Read(files.StatePath);
        Assert.Equal(StateReadStatus.Valid, state.Status);
        Assert.Equal(1, state.State!.CompletedSamples);
        Assert.Equal(1, state.State.FailedSamples);
        Assert.Equal(1, state.State.ErrorCount);
        Assert.Equal(RunId, state.State.RunId);
    }

    [Theory]
    [InlineData("plain-id")]
    [InlineData("with \"quotes\" and \\ backslash")]
    [InlineData("ünïcödé-数学-🙂")]
    [InlineData("tab\tnewline\n")]
    public void SampleIdsOfAnyTextRoundTripThroughTheFastAndTheJsonReaders(string id)
    {
        using var dir = new TestDirectory();
        var files = new RunFiles(dir.Path, RunId);
        using (CheckpointStore store = CheckpointStore.Open(files))
        {
            store.Append(Records.Completed(id));
            store.Append(Records.Failed(id + "-f"));
            store.Close(RunStatus.Incomplete);
        }

        CheckpointIndex index = CheckpointLoader.Load(files.ResultsPath);
        Assert.Empty(index.Issues);
        Assert.True(index.IsCompleted(id));
        Assert.Equal(RecordStatus.Failed, index.Samples[id + "-f"].Status);
        Assert.Equal(new[] { id, id + "-f" }, index.ReadLatestRecords().Select(r => r.SampleId).ToArray());
        byte[] line = File.ReadAllBytes(files.ResultsPath).AsSpan(0, index.Samples[id].Length).ToArray();
        Assert.True(RecordSummaryReader.TryRead(line, out RecordSummary summary, out _));
        Assert.Equal(id, summary.SampleId);
        Assert.Equal(Records.Completed(id).CompletedAt.UtcTicks, summary.CompletedAtTicks);
    }

    [Fact]
    public void ALargeFileIsCheckedOnBothCoresWithTheSameVerdictsInFileOrder()
    {
        // Thousands of lines per read buffer: the loader checks them in parallel and must still report
        // damage by line number, keep the latest record per sample, and find the tail.
        using var dir = new TestDirectory();
        var files = new RunFiles(dir.Path, RunId);
        using (CheckpointStore store = CheckpointStore.Open(files, checkpointEvery: 1000))
        {
            for (int i = 0; i < 6000; i++)
            {
                store.Append(Records.Completed("s" + (i % 5000), "v" + i));
            }

            store.Close(RunStatus.Completed);
        }

        byte[] bytes = File.ReadAllBytes(files.ResultsPath);
        int lineStart = 0;
        for (int line = 1; line < 2500; line++)
        {
            lineStart = Array.IndexOf(bytes, (byte)'\n', lineStart) + 1;
        }

        bytes[lineStart + 40] ^= 0x04;
        File.WriteAllBytes(files.ResultsPath, bytes.Concat(Encoding.ASCII.GetBytes("{\"v\":1,\"sample_id\":\"torn")).ToArray());

        CheckpointIndex index = CheckpointLoader.Load(files.ResultsPath);
        LoadIssue bad = Assert.Single(index.Issues, i => i.Kind == LoadIssueKind.BadLine);
        Assert.Equal(2500, bad.LineNumber);
        Assert.NotNull(index.Files[0].DamagedTail);
        Assert.Equal(bytes.Length, index.Files[0].ValidLength);
        Assert.Equal(5999, index.RecordCount);
        Assert.Equal(4999, index.CompletedCount);
        // Samples written twice keep their later record: s0 was written as v0 and again as v5000.
        Assert.Contains("\"v5000\"", index.ReadLatestRecords((id, _) => id == "s0").Single().OutputJson, StringComparison.Ordinal);
        // The damaged line (the 2500th) was s2499's only record: it counts as not done.
        Assert.False(index.IsCompleted("s2499"));
        Assert.True(index.IsCompleted("s2500"));
    }

    [Fact]
    public void TheCoreLibraryNeverReferencesPowerShell()
    {
        var core = typeof(CheckpointStore).Assembly;
        Assert.DoesNotContain(core.GetReferencedAssemblies(), a => a.Name!.StartsWith("System.Management.Automation", StringComparison.Ordinal));
        Assert.DoesNotContain(core.GetReferencedAssemblies(), a => a.Name!.StartsWith("Microsoft.PowerShell", StringComparison.Ordinal));
    }
}
