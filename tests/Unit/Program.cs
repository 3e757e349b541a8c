using System;
using System.Globalization;
using Checkpoint.Store;

namespace Checkpoint.Tests;

/// <summary>
/// The test assembly is also a small program, so crash tests can run a real writer in a child process and
/// kill it: <c>dotnet exec Checkpoint.Tests.dll crash-writer DIR RUNID COUNT</c> appends COUNT records to the
/// run, printing each sample id once its record is handed to the OS; <c>crash-queue-writer</c> does the same
/// through a <see cref="RecordQueue"/>, printing each id from the queue's callback.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length == 4 && args[0] == "crash-writer")
        {
            return CrashWriter(args[1], args[2], int.Parse(args[3], CultureInfo.InvariantCulture));
        }

        if (args.Length == 4 && args[0] == "crash-queue-writer")
        {
            return CrashQueueWriter(args[1], args[2], int.Parse(args[3], CultureInfo.InvariantCulture));
        }

        Console.Error.WriteLine("usage: crash-writer|crash-queue-writer DIR RUNID COUNT");
        return 2;
    }

    private static int CrashQueueWriter(string directory, string runId, int count)
    {
        using CheckpointStore store = CheckpointStore.Open(new RunFiles(directory, runId), checkpointEvery: 7);
        int start = store.Index.Samples.Count;
        Console.Out.WriteLine("ready " + start.ToString(CultureInfo.InvariantCulture));
        Console.Out.Flush();
        using (var queue = new RecordQueue(store))
        {
            for (int i = start; i < start + count; i++)
            {
                string id = "s" + i.ToString(CultureInfo.InvariantCulture);
                queue.Post(Records.Completed(id, new string('x', 200 + (i % 50))), null, () =>
                {
                    Console.Out.WriteLine(id);
                    Console.Out.Flush();
                });
            }
        }

        store.Close(RunStatus.Completed);
        return 0;
    }

    private static int CrashWriter(string directory, string runId, int count)
    {
        using CheckpointStore store = CheckpointStore.Open(new RunFiles(directory, runId), checkpointEvery: 7);
        int start = store.Index.Samples.Count;
        Console.Out.WriteLine("ready " + start.ToString(CultureInfo.InvariantCulture));
        Console.Out.Flush();
        for (int i = start; i < start + count; i++)
        {
            string id = "s" + i.ToString(CultureInfo.InvariantCulture);
            if (store.Index.IsCompleted(id))
            {
                continue;
            }

            store.Append(Records.Completed(id, new string('x', 200 + (i % 50))));
            Console.Out.WriteLine(id);
            Console.Out.Flush();
        }

        store.Close(RunStatus.Completed);
        return 0;
    }
}
