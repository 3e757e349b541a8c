using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Checkpoint.Cache;
using Checkpoint.Store;
using Xunit;

namespace Checkpoint.Tests;

public sealed class CacheStoreTests
{
    private static CacheEntry Entry(string answer, long input = 10, long output = 2) => new()
    {
        OutputJson = "{\"answer\":\"" + answer + "\"}",
        InputTokens = input,
        OutputTokens = output,
        CreatedAt = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero),
        DurationMs = 5,
    };

    private static string Hash(string key) => CacheKey.FromJson("{\"k\":\"" + key + "\"}").Hash;

    private static string[] Segments(TestDirectory dir) => Directory.GetFiles(dir.Path, CacheSegments.Pattern);

    [Fact]
    public void KeysHashTheSameWhateverTheOrderOfTheirPropertiesAndTheCulture()
    {
        CultureInfo culture = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = new CultureInfo("de-DE");
            CacheKey a = CacheKey.FromJson("{\"model\":\"m\",\"temperature\":0.7,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
            CacheKey b = CacheKey.FromJson("{ \"messages\": [ { \"content\": \"hi\", \"role\": \"user\" } ], \"temperature\": 7e-1, \"model\": \"m\" }");
            Assert.Equal(a.Hash, b.Hash);
            Assert.Equal(64, a.Hash.Length);
            Assert.Equal("{\"messages\":[{\"content\":\"hi\",\"role\":\"user\"}],\"model\":\"m\",\"temperature\":0.7}", CacheKey.Canonical("{\"temperature\":0.70,\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"));
        }
        finally
        {
            CultureInfo.CurrentCulture = culture;
        }

        Assert.NotEqual(CacheKey.FromJson("{\"epoch\":1,\"q\":\"x\"}").Hash, CacheKey.FromJson("{\"epoch\":2,\"q\":\"x\"}").Hash);
        Assert.NotEqual(CacheKey.FromJson("{\"m\":[1,2]}").Hash, CacheKey.FromJson("{\"m\":[2,1]}").Hash);
        Assert.Equal(new[] { "Authorization", "api_key" }, CacheKey.FromJson("{\"api_key\":1,\"max_tokens\":5,\"h\":{\"Authorization\":\"x\"}}").SecretNames);
    }

    [Fact]
    public void AnEntryIsStoredAsTheRunStoresRecordsAndReadBackByAnotherProcess()
    {
        using var dir = new TestDirectory();
        CacheStore writer = CacheStore.Load(dir.Path);
        writer.Append(Hash("a"), Entry("A"));
        writer.Append(Hash("b"), Entry("B", 20, 4));
        Assert.True(writer.TryGet(Hash("b"), out CacheEntry b));
        Assert.Equal("{\"answer\":\"B\"}", b.OutputJson);
        Assert.Equal(20, b.InputTokens);

        // One segment of checksummed lines of the run store's record format, the hash as the sample id.
        string segment = Assert.Single(Segments(dir));
        CheckpointIndex loaded = CheckpointLoader.Load(segment);
        Assert.Empty(loaded.Issues);
        Assert.Equal(2, loaded.RecordCount);
        Assert.True(loaded.IsCompleted(Hash("a")));

        CacheStore reader = CacheStore.Load(dir.Path);
        Assert.Equal(2, reader.Count);
        Assert.True(reader.TryGet(Hash("a"), out CacheEntry a));
        Assert.Equal("{\"answer\":\"A\"}", a.OutputJson);
        Assert.False(reader.TryGet(Hash("c"), out _));

        // Written after the reader loaded: found once the reader refreshes.
        writer.Append(Hash("c"), Entry("C"));
        Assert.False(reader.TryGet(Hash("c"), out _));
        reader.Refresh();
        Assert.True(reader.TryGet(Hash("c"), out _));
    }

    [Fact]
    public void EachWriterHasASegmentOfItsOwnAndReadersMergeThem()
    {
        using var dir = new TestDirectory();
        CacheStore one = CacheStore.Load(dir.Path);
        CacheStore two = CacheStore.Load(dir.Path);
        one.Append(Hash("a"), Entry("A"));
        two.Append(Hash("b"), Entry("B"));
        Assert.Equal(2, Segments(dir).Length);
        CacheStore reader = CacheStore.Load(dir.Path);
        Assert.Equal(2, reader.Count);
        Assert.True(reader.TryGet(Hash("a"), out _));
        Assert.True(reader.TryGet(Hash("b"), out _));
    }

    [Fact]
    public void AFlippedByteIsAMissAndAWarningNeverADamagedEntry()
    {
        using var dir = new TestDirectory();
        CacheStore writer = CacheStore.Load(dir.Path);
        writer.Append(Hash("a"), Entry("A"));
        writer.Append(Hash("b"), Entry("B"));
        string segment = Assert.Single(Segments(dir));
        byte[] bytes = File.ReadAllBytes(segment);
        int at = Encoding.UTF8.GetString(bytes).IndexOf("\"answer\":\"A\"", StringComparison.Ordinal);
        Assert.True(at > 0);
        bytes[at + 10] = (byte)'Z';
        File.WriteAllBytes(segment, bytes);

        // Found by a fresh load, and by the writer's index when it reads the entry again.
        CacheStore reader = CacheStore.Load(dir.Path);
        Assert.Contains(reader.TakeWarnings(), w => w.Contains("1 damaged entry", StringComparison.Ordinal));
        Assert.False(reader.TryGet(Hash("a"), out _));
        Assert.True(reader.TryGet(Hash("b"), out CacheEntry b));
        Assert.Equal("{\"answer\":\"B\"}", b.OutputJson);
        Assert.False(writer.TryGet(Hash("a"), out _));
        Assert.Contains(writer.TakeWarnings(), w => w.Contains("fails its checksum", StringComparison.Ordinal));

        // The call is made again and appended anew; the bytes before it stay as they were.
        CacheEntry again = writer.GetOrCall(Hash("a"), () => Entry("A2"), out bool hit);
        Assert.False(hit);
        Assert.Equal("{\"answer\":\"A2\"}", again.OutputJson);
        Assert.Equal(bytes, File.ReadAllBytes(segment).Take(bytes.Length));
        Assert.True(CacheStore.Load(dir.Path).TryGet(Hash("a"), out CacheEntry reloaded));
        Assert.Equal("{\"answer\":\"A2\"}", reloaded.OutputJson);
    }

    [Fact]
    public void AHalfWrittenLastLineIsNeitherReturnedNorReportedUntilItsNewlineComes()
    {
        using var dir = new TestDirectory();
        CacheStore writer = CacheStore.Load(dir.Path);
        writer.Append(Hash("a"), Entry("A"));
        string segment = Assert.Single(Segments(dir));
        string line = File.ReadAllText(segment);

        // A second entry cut off as a kill -9 in the middle of its write leaves it.
        CacheStore other = CacheStore.Load(dir.Path);
        string torn = Path.Combine(dir.Path, "segment-20261201000000-1-torn.jsonl");
        string full = line.Replace(Hash("a"), Hash("b"), StringComparison.Ordinal);
        File.WriteAllText(torn, full.Substring(0, full.Length / 2));
        other.Refresh();
        Assert.Empty(other.TakeWarnings());
        Assert.False(other.TryGet(Hash("b"), out _));
        Assert.True(other.TryGet(Hash("a"), out _));
    }

    [Fact]
    public async Task SixteenThreadsAskingForOneKeyMakeOneCall()
    {
        using var dir = new TestDirectory();
        CacheStore store = CacheStore.Load(dir.Path);
        int calls = 0;
        int hits = 0;
        using var go = new ManualResetEventSlim(false);
        Task[] tasks = Enumerable.Range(0, 16).Select(_ => Task.Run(() =>
        {
            go.Wait();
            store.GetOrCall(Hash("one"), () =>
            {
                Interlocked.Increment(ref calls);
                Thread.Sleep(200);
                return Entry("once");
            }, out bool hit);
            if (hit)
            {
                Interlocked.Increment(ref hits);
            }
        })).ToArray();
        go.Set();
        await Task.WhenAll(tasks);
        Assert.Equal(1, calls);
        Assert.Equal(15, hits);
    }

    [Fact]
    public void ACallThatThrowsStoresNothingAndTheNextCallerCalls()
    {
        using var dir = new TestDirectory();
        CacheStore store = CacheStore.Load(dir.Path);
        Assert.Throws<TimeoutException>(() => store.GetOrCall(Hash("a"), () => throw new TimeoutException(), out _));
        Assert.Empty(Segments(dir));
        store.GetOrCall(Hash("a"), () => Entry("A"), out bool hit);
        Assert.False(hit);
        store.GetOrCall(Hash("a"), () => throw new InvalidOperationException("not called"), out hit);
        Assert.True(hit);
    }

    [Fact]
    public void AFolderThatDoesNotExistIsAnEmptyCacheUntilItsFirstEntryMakesIt()
    {
        using var dir = new TestDirectory();
        string folder = Path.Combine(dir.Path, "out", "cache");
        CacheStore store = CacheStore.Load(folder);
        Assert.Equal(0, store.Count);
        Assert.Empty(store.TakeWarnings());
        Assert.False(Directory.Exists(folder));
        store.Append(Hash("a"), Entry("A"));
        Assert.Single(Directory.GetFiles(folder, CacheSegments.Pattern));
        Assert.True(CacheStore.Load(folder).TryGet(Hash("a"), out _));
    }

    [Fact]
    public void ADirectoryThatIsAFileIsRefused()
    {
        using var dir = new TestDirectory();
        string file = dir.File("file");
        File.WriteAllText(file, "x");
        CheckpointException e = Assert.Throws<CheckpointException>(() => CacheStore.Open(file));
        Assert.Equal(ErrorIds.CacheDirectoryInvalid, e.ErrorId);
        Assert.Equal("x", File.ReadAllText(file));
    }

    [Fact]
    public void ARunRecordKeepsItsCacheHitsThroughBothReaders()
    {
        var buffer = new Checkpoint.IO.GrowableBuffer();
        System.Text.Json.Utf8JsonWriter? writer = null;
        CheckpointRecord plain = Records.Completed("s");
        var record = new CheckpointRecord
        {
            SampleId = "s", Status = RecordStatus.Completed, StartedAt = plain.StartedAt, CompletedAt = plain.CompletedAt,
            InputTokens = 5, OutputTokens = 1, Cost = 0.5m, CacheHits = 3, CachedCost = 0.25m, OutputJson = plain.OutputJson,
        };
        RecordCodec.Encode(record, buffer, ref writer);
        byte[] line = buffer.WrittenSpan.Slice(0, buffer.Count - 1).ToArray();
        Assert.Contains(",\"cache\":{\"hits\":3,\"cost\":0.25},", Encoding.UTF8.GetString(line), StringComparison.Ordinal);
        Assert.True(RecordSummaryReader.TryReadFast(line, out RecordSummary fast));
        Assert.Equal((3, 0.25m, 0.5m), (fast.CacheHits, fast.CachedCost, fast.Cost));

        // The same fields in another order: the JSON reader.
        string reordered = "{\"status\":\"completed\",\"cache\":{\"cost\":0.25,\"hits\":3},\"v\":1,\"sample_id\":\"s\",\"output\":null}";
        Assert.False(RecordSummaryReader.TryReadFast(Encoding.UTF8.GetBytes(reordered), out _));
        Assert.True(RecordSummaryReader.TryRead(Encoding.UTF8.GetBytes(reordered), out RecordSummary json, out _));
        Assert.Equal((3, 0.25m), (json.CacheHits, json.CachedCost));
        CheckpointRecord decoded = RecordCodec.Decode(line);
        Assert.Equal((3, 0.25m), (decoded.CacheHits, decoded.CachedCost));
    }
}
