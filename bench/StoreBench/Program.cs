using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using Checkpoint.Store;

namespace Checkpoint.Bench;

/// <summary>
/// Store benchmarks, one measurement per process so that peak memory belongs to that measurement alone.
/// <c>append DIR COUNT EVERY</c> appends COUNT ~300-byte records with a checkpoint every EVERY records;
/// <c>load FILE</c> loads a file and builds its set of completed ids. Each prints one line of JSON.
/// </summary>
public static class Program
{
    private static readonly string s_output = "{\"question\":\"" + new string('q', 40) + "\",\"answer\":\"" + new string('a', 25) + "\",\"n\":42}";

    public static int Main(string[] args)
    {
        switch (args[0])
        {
            case "append":
                return Append(args[1], int.Parse(args[2], CultureInfo.InvariantCulture), int.Parse(args[3], CultureInfo.InvariantCulture));
            case "load":
                return Load(args[1]);
            case "cache-fill":
                return CacheBench.Fill(args[1], int.Parse(args[2], CultureInfo.InvariantCulture));
            case "cache-load":
                return CacheBench.Load(args[1]);
            case "cache-lookup":
                return CacheBench.Lookup(args[1], int.Parse(args[2], CultureInfo.InvariantCulture), int.Parse(args[3], CultureInfo.InvariantCulture));
            case "fill":
                return Fill(args[1], args[2], int.Parse(args[3], CultureInfo.InvariantCulture), int.Parse(args[4], CultureInfo.InvariantCulture));
            default:
                Console.Error.WriteLine("usage: append DIR COUNT EVERY | load FILE | fill DIR RUNID COUNT SKIPEVERY | cache-fill DIR COUNT | cache-load DIR | cache-lookup DIR COUNT HITS");
                return 2;
        }
    }

    private static int Append(string directory, int count, int every)
    {
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }

        var files = new RunFiles(directory, "20261128_bench_model_0123abcd");
        DateTimeOffset now = DateTimeOffset.UtcNow;
        var stopwatch = Stopwatch.StartNew();
        using (CheckpointStore store = CheckpointStore.Open(files, every))
        {
            for (int i = 0; i < count; i++)
            {
                store.Append(new CheckpointRecord
                {
                    SampleId = "s" + i.ToString(CultureInfo.InvariantCulture),
                    Status = RecordStatus.Completed,
                    StartedAt = now,
                    CompletedAt = now,
                    DurationMs = 12.5,
                    OutputJson = s_output,
                });
            }

            store.Close(RunStatus.Completed);
        }

        stopwatch.Stop();
        long bytes = new FileInfo(files.ResultsPath).Length;
        Console.WriteLine(string.Format(
            CultureInfo.InvariantCulture,
            "{{\"records\":{0},\"every\":{1},\"seconds\":{2},\"bytesPerRecord\":{3}}}",
            count,
            every,
            stopwatch.Elapsed.TotalSeconds,
            bytes / count));
        return 0;
    }

    // Completes samples q1..qCOUNT of an existing run, except every SKIPth, which stays pending.
    private static int Fill(string directory, string runId, int count, int skipEvery)
    {
        DateTimeOffset now = DateTimeOffset.UtcNow;
        using CheckpointStore store = CheckpointStore.Open(new RunFiles(directory, runId), 100000);
        int written = 0;
        for (int i = 1; i <= count; i++)
        {
            string id = "q" + i.ToString(CultureInfo.InvariantCulture);
            if (i % skipEvery == 0 || store.Index.IsCompleted(id))
            {
                continue;
            }

            store.Append(new CheckpointRecord { SampleId = id, Status = RecordStatus.Completed, StartedAt = now, CompletedAt = now, DurationMs = 1, OutputJson = "\"" + id + "\"" });
            written++;
        }

        store.Close(RunStatus.Incomplete);
        Console.WriteLine("{\"written\":" + written.ToString(CultureInfo.InvariantCulture) + "}");
        return 0;
    }

    private static int Load(string path)
    {
        var stopwatch = Stopwatch.StartNew();
        CheckpointIndex index = CheckpointLoader.Load(path);
        int completed = 0;
        foreach (var pair in index.Samples)
        {
            if (pair.Value.Status == RecordStatus.Completed)
            {
                completed++;
            }
        }

        stopwatch.Stop();
        using Process self = Process.GetCurrentProcess();
        self.Refresh();
        Console.WriteLine(string.Format(
            CultureInfo.InvariantCulture,
            "{{\"records\":{0},\"completed\":{1},\"seconds\":{2},\"peakMB\":{3}}}",
            index.RecordCount,
            completed,
            stopwatch.Elapsed.TotalSeconds,
            self.PeakWorkingSet64 / (1024.0 * 1024.0)));
        return 0;
    }
}
