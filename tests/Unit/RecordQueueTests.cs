using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using Checkpoint.Store;
using Xunit;

namespace Checkpoint.Tests;

public sealed class RecordQueueTests
{
    private const string RunId = "20261128_queue_model_0123abcd";

    [Fact]
    public void EachRecordIsOnDiskBeforeItsCallbackRunsAndTheFileKeepsThePostingOrder()
    {
        using var dir = new TestDirectory();
        var files = new RunFiles(dir.Path, RunId);
        const int Count = 3000;
        var missing = new List<string>();
        var reported = new List<string>();
        using (CheckpointStore store = CheckpointStore.Open(files))
        {
            using (var queue = new RecordQueue(store))
            {
                for (int i = 0; i < Count; i++)
                {
                    int n = i;
                    string id = "q" + n;
                    queue.Post(Records.Completed(id, new string('y', n % 300)), null, () =>
                    {
                        // The callback's thread reads the file itself: the record must already be in it.
                        if (n % 97 == 0 && !File.ReadAllText(files.ResultsPath).Contains("\"sample_id\":\"" + id + "\"", StringComparison.Ordinal))
                        {
                            missing.Add(id);
                        }

                        reported.Add(id);
                    });
                }

                queue.Flush();
                Assert.Equal(Count, reported.Count);
                Assert.Equal(Count, store.Index.CompletedCount);
            }

            store.Close(RunStatus.Completed);
        }

        Assert.Empty(missing);
        Assert.Equal(Enumerable.Range(0, Count).Select(i => "q" + i), reported);
        string[] lines = File.ReadAllLines(files.ResultsPath);
        Assert.Equal(reported, lines.Select(l => RecordCodec.Decode(Encoding.UTF8.GetBytes(l)).SampleId));
        CheckpointIndex index = CheckpointLoader.Load(files.ResultsPath);
        Assert.Empty(index.Issues);
        Assert.Equal(Count, index.CompletedCount);
    }

    [Fact]
    public void RecordsWrittenTogetherKeepTheirOwnOffsetsErrorsLogAndCheckpointCount()
    {
        using var dir = new TestDirectory();
        var files = new RunFiles(dir.Path, RunId);
        using (CheckpointStore store = CheckpointStore.Open(files, checkpointEvery: 2))
        {
            store.Append(Records.Completed("first"));
            bool asked = store.Append(new (CheckpointRecord, string?)[]
            {
                (Records.Completed("a", "alpha"), null),
                (Records.Failed("b"), "the context of b"),
                (Records.Completed("c", "gamma"), null),
            });
            Assert.True(asked);
            Assert.Equal(3, store.Index.CompletedCount);
            Assert.Equal(1, store.Index.FailedCount);
            store.Close(RunStatus.Incomplete);
        }

        CheckpointIndex index = CheckpointLoader.Load(files.ResultsPath);
        Assert.Empty(index.Issues);
        Assert.Equal(4, index.RecordCount);
        Dictionary<string, CheckpointRecord> latest = index.ReadLatestRecords().ToDictionary(r => r.SampleId);
        Assert.Contains("\"alpha\"", latest["a"].OutputJson, StringComparison.Ordinal);
        Assert.Contains("\"gamma\"", latest["c"].OutputJson, StringComparison.Ordinal);
        Assert.Equal(RecordStatus.Failed, latest["b"].Status);
        Assert.Contains("the context of b", File.ReadAllText(files.ErrorLogPath), StringComparison.Ordinal);
    }

    [Fact]
    public void AFailedAppendDropsWhatIsQueuedAndEveryLaterCallThrowsIt()
    {
        using var dir = new TestDirectory();
        var files = new RunFiles(dir.Path, RunId);
        CheckpointStore store = CheckpointStore.Open(files);
        var reported = new List<string>();
        using var queue = new RecordQueue(store);
        queue.Post(Records.Completed("before"), null, () => reported.Add("before"));
        queue.Flush();

        // The store goes away under the queue: its next append fails.
        store.Close(RunStatus.Interrupted);
        queue.Post(Records.Completed("lost1"), null, () => reported.Add("lost1"));
        Assert.Throws<ObjectDisposedException>(queue.Flush);
        Assert.Throws<ObjectDisposedException>(() => queue.Post(Records.Completed("lost2"), null, () => reported.Add("lost2")));
        Assert.IsType<ObjectDisposedException>(queue.Failure);
        Assert.Equal(new[] { "before" }, reported);
        Assert.Equal(new[] { "before" }, File.ReadAllLines(files.ResultsPath).Select(l => RecordCodec.Decode(Encoding.UTF8.GetBytes(l)).SampleId));
    }
}
