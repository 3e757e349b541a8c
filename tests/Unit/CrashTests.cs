using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using Checkpoint.Store;
using Xunit;

namespace Checkpoint.Tests;

/// <summary>
/// A real writer in a child process (this test assembly run as a program, see Program.cs), killed with
/// SIGKILL while it appends, again and again; after every kill the file is reloaded and its bytes checked.
/// </summary>
public sealed class CrashTests
{
    private const string RunId = "20261128_crash_model_0123abcd";

    // The longest torn tail a kill can leave: part of one record written alone, or of one batch of queued
    // records, each at most as long as the longest record the children write (an output of 249 characters).
    [Theory]
    [InlineData("crash-writer", 1)]
    [InlineData("crash-queue-writer", RecordQueue.Capacity)]
    public void KillingTheWriterAtRandomMomentsLosesNothingThatWasAppended(string mode, int recordsInOneWrite)
    {
        int longestTornTail = recordsInOneWrite * EncodedLength(Records.Completed("s" + int.MaxValue.ToString(System.Globalization.CultureInfo.InvariantCulture), new string('x', 249)));
        using var dir = new TestDirectory();
        var files = new RunFiles(dir.Path, RunId);
        var random = new Random(20261128);
        var acknowledged = new HashSet<string>(StringComparer.Ordinal);
        const int Kills = 25;
        for (int round = 0; round < Kills; round++)
        {
            using Process child = StartWriter(mode, dir.Path, 1_000_000);
            string? ready = child.StandardOutput.ReadLine();
            Assert.StartsWith("ready", ready, StringComparison.Ordinal);

            // While the child holds the run, nobody else may open it.
            Assert.Throws<RunLockedException>(() => CheckpointStore.Open(files));

            var printed = new List<string>();
            var reader = new Thread(() =>
            {
                string? line;
                while ((line = child.StandardOutput.ReadLine()) is not null)
                {
                    lock (printed)
                    {
                        printed.Add(line);
                    }
                }
            });
            reader.Start();
            Thread.Sleep(random.Next(20, 250));
            child.Kill();
            child.WaitForExit();
            reader.Join();
            lock (printed)
            {
                acknowledged.UnionWith(printed);
            }

            CheckpointIndex index = CheckpointLoader.Load(files.ResultsPath);
            Assert.DoesNotContain(index.Issues, i => i.Kind == LoadIssueKind.BadLine);
            foreach (string id in acknowledged)
            {
                Assert.True(index.IsCompleted(id), $"round {round}: sample {id} was acknowledged as written but is not in the file");
            }

            AssertEveryLineWholeAndNoSampleTwice(files.ResultsPath, index, longestTornTail);
        }

        Assert.True(acknowledged.Count > Kills, $"the children wrote only {acknowledged.Count} records in {Kills} rounds");

        // The lock of a killed process never blocks: the run opens at once.
        using CheckpointStore store = CheckpointStore.Open(files);
        Assert.Equal(CheckpointLoader.Load(files.ResultsPath).CompletedCount, store.Index.CompletedCount);
    }

    private static int EncodedLength(CheckpointRecord record)
    {
        var buffer = new Checkpoint.IO.GrowableBuffer();
        System.Text.Json.Utf8JsonWriter? writer = null;
        RecordCodec.Encode(record, buffer, ref writer);
        return buffer.Count;
    }

    private static void AssertEveryLineWholeAndNoSampleTwice(string path, CheckpointIndex index, int longestTornTail)
    {
        byte[] bytes = File.ReadAllBytes(path);
        long valid = index.Files[0].ValidLength;
        string text = System.Text.Encoding.UTF8.GetString(bytes, 0, (int)valid);
        string[] lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(index.RecordCount, lines.Length);
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (string line in lines)
        {
            Assert.True(RecordCodec.HasValidChecksum(System.Text.Encoding.UTF8.GetBytes(line)), "a line in the good part of the file fails its checksum");
            string id = RecordCodec.Decode(System.Text.Encoding.UTF8.GetBytes(line)).SampleId;
            Assert.True(ids.Add(id), $"sample {id} has two completed records");
        }

        // Whatever follows the last whole record is a torn write.
        Assert.True(bytes.Length - valid < longestTornTail, $"{bytes.Length - valid} bytes follow the last whole record");
    }

    private static Process StartWriter(string mode, string directory, int count)
    {
        string assembly = typeof(CrashTests).Assembly.Location;
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };

        // Without the runtime's debugger pipes and diagnostics socket: a killed writer could not remove them
        // from the temporary folder, and test runs would pile them up there.
        start.Environment["DOTNET_EnableDiagnostics"] = "0";
        foreach (string arg in new[] { "exec", assembly, mode, directory, RunId, count.ToString(System.Globalization.CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(arg);
        }

        return Process.Start(start) ?? throw new InvalidOperationException("The writer did not start.");
    }
}
