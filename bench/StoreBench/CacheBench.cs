using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using Checkpoint.Cache;
using Checkpoint.Store;

namespace Checkpoint.Bench;

/// <summary>
/// Response cache benchmarks: <c>cache-fill DIR COUNT</c> writes COUNT entries as one segment (through the run
/// store's writer, which writes the same records); <c>cache-load DIR</c> loads the cache's index;
/// <c>cache-lookup DIR COUNT HITS</c> loads a cache of COUNT entries and times HITS lookups of stored keys.
/// Each prints one line of JSON.
/// </summary>
internal static class CacheBench
{
    private static readonly string s_output = "{\"question\":\"" + new string('q', 40) + "\",\"answer\":\"" + new string('a', 25) + "\",\"n\":42}";

    public static string HashOf(int i) => CacheKey.FromJson("{\"i\":" + i.ToString(CultureInfo.InvariantCulture) + "}").Hash;

    public static int Fill(string directory, int count)
    {
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }

        string staging = directory + ".staging";
        var files = new RunFiles(staging, "20261206_cache_bench_0123abcd");
        DateTimeOffset now = DateTimeOffset.UtcNow;
        using (CheckpointStore store = CheckpointStore.Open(files, 100000))
        {
            for (int i = 0; i < count; i++)
            {
                store.Append(new CheckpointRecord
                {
                    SampleId = HashOf(i),
                    Status = RecordStatus.Completed,
                    StartedAt = now,
                    CompletedAt = now,
                    DurationMs = 800,
                    InputTokens = 120,
                    OutputTokens = 40,
                    OutputJson = "{\"key\":{\"i\":" + i.ToString(CultureInfo.InvariantCulture) + "},\"output\":" + s_output + "}",
                });
            }

            store.Close(RunStatus.Completed);
        }

        Directory.CreateDirectory(directory);
        string segment = Path.Combine(directory, "segment-20261206000000-1-bench.jsonl");
        File.Move(files.ResultsPath, segment);
        Directory.Delete(staging, recursive: true);
        Console.WriteLine(string.Format(CultureInfo.InvariantCulture, "{{\"entries\":{0},\"bytesPerEntry\":{1}}}", count, new FileInfo(segment).Length / count));
        return 0;
    }

    public static int Load(string directory)
    {
        var stopwatch = Stopwatch.StartNew();
        CacheStore store = CacheStore.Open(directory);
        stopwatch.Stop();
        using Process self = Process.GetCurrentProcess();
        self.Refresh();
        Console.WriteLine(string.Format(
            CultureInfo.InvariantCulture,
            "{{\"entries\":{0},\"seconds\":{1},\"peakMB\":{2}}}",
            store.Count,
            stopwatch.Elapsed.TotalSeconds,
            self.PeakWorkingSet64 / (1024.0 * 1024.0)));
        return 0;
    }

    public static int Lookup(string directory, int count, int hits)
    {
        CacheStore store = CacheStore.Open(directory);
        var random = new Random(7);
        string[] keys = new string[hits];
        for (int i = 0; i < hits; i++)
        {
            keys[i] = HashOf(random.Next(count));
        }

        // Warm: the first lookups compile the path.
        for (int i = 0; i < Math.Min(1000, hits); i++)
        {
            store.TryGet(keys[i], out _);
        }

        int found = 0;
        var stopwatch = Stopwatch.StartNew();
        foreach (string key in keys)
        {
            if (store.TryGet(key, out _))
            {
                found++;
            }
        }

        stopwatch.Stop();
        Console.WriteLine(string.Format(
            CultureInfo.InvariantCulture,
            "{{\"entries\":{0},\"hits\":{1},\"found\":{2},\"microsecondsPerHit\":{3}}}",
            store.Count,
            hits,
            found,
            stopwatch.Elapsed.TotalMilliseconds * 1000 / hits));
        return 0;
    }
}
