using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Checkpoint.Runs;
using Checkpoint.Store;

namespace Checkpoint;

/// <summary>
/// Read-only access to a run's checkpoint, for C# and PowerShell alike:
/// <c>[Checkpoint.CheckpointManager]::new('outputs/x.jsonl').GetStats()</c>. It never takes the run's lock,
/// so it works while a run is writing, and it never changes a file.
/// </summary>
public sealed class CheckpointManager
{
    /// <summary>Opens the checkpoint whose results file is <paramref name="path"/> (a <c>.jsonl</c> file).</summary>
    public CheckpointManager(string path)
    {
        if (string.IsNullOrEmpty(path))
        {
            throw new ArgumentException("Give the path of a run's .jsonl file.", nameof(path));
        }

        Path = System.IO.Path.GetFullPath(path);
    }

    /// <summary>The results file.</summary>
    public string Path { get; }

    /// <summary>The state file beside the results file.</summary>
    public string StatePath => Path.EndsWith(RunFiles.ResultsExtension, StringComparison.Ordinal)
        ? Path.Substring(0, Path.Length - RunFiles.ResultsExtension.Length) + RunFiles.StateSuffix
        : Path + RunFiles.StateSuffix;

    /// <summary>Loads the file and says what it holds: completed and failed samples, errors, last checkpoint.</summary>
    public CheckpointStats GetStats()
    {
        CheckpointIndex index = Load();
        RunState? state = StateFile.Read(StatePath).State;
        RunTotals totals = RunTotals.OfFiles(index, state?.TotalSamples ?? 0);
        DateTimeOffset? last = RunTotals.LastCheckpoint(state is null ? Array.Empty<RunState>() : new[] { state }, index);
        return new CheckpointStats(totals.Completed, totals.Failed, index.ErrorCount, index.RecordCount, last, state?.TotalSamples, index.Issues);
    }

    /// <summary>The ids of the samples whose latest record is completed.</summary>
    public ISet<string> GetCompletedSampleIds()
    {
        CheckpointIndex index = Load();
        return new HashSet<string>(index.Samples.Where(p => p.Value.Status == RecordStatus.Completed).Select(p => p.Key), StringComparer.Ordinal);
    }

    /// <summary>The latest record of every sample, in file order, read one at a time.</summary>
    public IEnumerable<CheckpointRecord> GetResults() => Load().ReadLatestRecords();

    /// <summary>Loads the index of the file (the damage it reports is in <see cref="CheckpointIndex.Issues"/>).</summary>
    public CheckpointIndex Load() => CheckpointLoader.Load(Path);
}
