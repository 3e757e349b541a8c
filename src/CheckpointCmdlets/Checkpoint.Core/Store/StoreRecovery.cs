using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using Checkpoint.IO;

namespace Checkpoint.Store;

/// <summary>
/// What opening a run's part for writing does to its files before the first append, under the part's lock:
/// loads the JSONL, moves a damaged tail into a sidecar file and cuts it off (so nothing is silently
/// dropped), and reads the state or rebuilds it from the JSONL, which holds every result.
/// </summary>
internal static class StoreRecovery
{
    /// <summary>
    /// Recovers the files of <paramref name="files"/>, sizing the index for <paramref name="expectedSamples"/>.
    /// The writer it returns appends after the last good record; what was found and repaired is in the warnings.
    /// </summary>
    public static Recovered Recover(RunFiles files, int expectedSamples)
    {
        var warnings = new List<string>();
        CheckpointIndex index = CheckpointLoader.Load(new[] { files.ResultsPath }, expectedSamples);
        LoadedFile loaded = index.Files[0];
        foreach (LoadIssue issue in index.Issues)
        {
            if (issue.Kind == LoadIssueKind.BadLine)
            {
                warnings.Add(issue.ToString());
            }
        }

        if (loaded.DamagedTail is LoadIssue tail)
        {
            string sidecar = SaveTail(files.ResultsPath, tail);
            warnings.Add($"{tail} Cut {tail.Length} byte(s) off the end; they are kept in '{sidecar}'.");
        }

        var writer = new CheckpointWriter(files.ResultsPath, loaded.ValidLength);
        try
        {
            if (loaded.DamagedTail is not null)
            {
                writer.Sync();
                NativeFile.FsyncDirectory(files.Directory);
            }

            StateReadResult read = StateFile.Read(files.StatePath);
            RunState state = read.State ?? new RunState { RunId = files.RunId, Shard = files.Shard?.ToString(), StartedAt = DateTimeOffset.UtcNow };
            if (read.Status == StateReadStatus.Damaged || (read.Status == StateReadStatus.Missing && index.RecordCount > 0))
            {
                warnings.Add($"The state file '{files.StatePath}' was {(read.Status == StateReadStatus.Missing ? "missing" : "damaged")} ({read.Problem}); it is rebuilt from '{files.ResultsPath}', which holds every result.");
            }
            else if (read.Status == StateReadStatus.ChangedOutside)
            {
                warnings.Add($"The state file '{files.StatePath}' was changed outside the module ({read.Problem}).");
            }

            state.RunId = files.RunId;
            state.ModuleVersion = ThisAssembly.Version;
            state.FormatVersion = RunState.CurrentFormatVersion;
            return new Recovered(index, writer, read, state, warnings);
        }
        catch
        {
            writer.Dispose();
            throw;
        }
    }

    private static string SaveTail(string resultsPath, LoadIssue tail)
    {
        byte[] bytes = new byte[tail.Length];
        using (var stream = new FileStream(resultsPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
        {
            stream.Seek(tail.Offset, SeekOrigin.Begin);
            int done = 0;
            while (done < bytes.Length)
            {
                int n = stream.Read(bytes, done, bytes.Length - done);
                if (n == 0)
                {
                    break;
                }

                done += n;
            }
        }

        string stamp = DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmssfff'Z'", CultureInfo.InvariantCulture);
        string sidecar = resultsPath + ".damaged-" + stamp + "-at-" + tail.Offset.ToString(CultureInfo.InvariantCulture);
        AtomicFile.Write(sidecar, bytes);
        return sidecar;
    }

    /// <summary>A part's files as recovery left them: the index, a writer after the last good record, and the state.</summary>
    internal sealed record Recovered(CheckpointIndex Index, CheckpointWriter Writer, StateReadResult StateRead, RunState State, List<string> Warnings);
}
