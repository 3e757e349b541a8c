using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Checkpoint.Identity;
using Checkpoint.Store;
using Checkpoint.Sharding;

namespace Checkpoint.Runs;

/// <summary>
/// All files of one run id in one directory, sharded or not, read as one run: each sample's winning record
/// counts (a completed record in any file, else the latest). Every reader (stats, results, resume, remove)
/// goes through here and through the one loader. Nothing here takes a run's lock or changes a file, except
/// <see cref="Remove"/>: whether a part is running comes from its lease, read-only, so readers work on a
/// read-only copy and never stand in a writer's way.
/// </summary>
public sealed partial class RunSet
{
    private RunSet(string directory, string runId, IReadOnlyList<RunFiles> parts)
    {
        Directory = directory;
        RunId = runId;
        Parts = parts;
    }

    /// <summary>The output directory.</summary>
    public string Directory { get; }

    /// <summary>The run id.</summary>
    public string RunId { get; }

    /// <summary>The unsharded files and each shard's files that exist.</summary>
    public IReadOnlyList<RunFiles> Parts { get; }

    /// <summary>
    /// The runs in <paramref name="directory"/> whose ids <paramref name="match"/> accepts (all when null).
    /// A file named like a run's is one only with a state file, or when its first line is a checkpoint record:
    /// a user's `20250101_my_results_deadbeef.jsonl` is neither listed nor ever deleted as a run.
    /// </summary>
    public static IReadOnlyList<RunSet> Find(string directory, Func<string, bool>? match = null)
    {
        string full = Path.GetFullPath(directory);
        return RunFiles.DiscoverRunIds(full)
            .Where(id => match is null || match(id))
            .Select(id => new RunSet(full, id, RunParts.Discover(full, id).Where(IsRunPart).ToList()))
            .Where(set => set.Parts.Count > 0)
            .ToList();
    }

    private const int MaxFirstLine = 16 << 20;

    // A part the module wrote: it has a state file, or its results file begins with a checksummed record.
    private static bool IsRunPart(RunFiles part)
    {
        if (File.Exists(part.StatePath))
        {
            return true;
        }

        try
        {
            using var stream = new FileStream(part.ResultsPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1);
            // The first line, up to the longest record a reader would look for (16 MiB).
            byte[] head = new byte[(int)Math.Min(stream.Length, 65536)];
            int filled = 0, newline = -1;
            while (newline < 0 && filled < MaxFirstLine)
            {
                if (filled == head.Length)
                {
                    Array.Resize(ref head, Math.Min(head.Length * 4, MaxFirstLine));
                }

                int read = stream.Read(head, filled, head.Length - filled);
                if (read == 0)
                {
                    break;
                }

                newline = Array.IndexOf(head, (byte)'\n', filled, read);
                filled += read;
            }

            if (newline <= 0)
            {
                return false;
            }

            return RecordCodec.HasValidChecksum(RecordCodec.WithoutCarriageReturn(new ReadOnlySpan<byte>(head, 0, newline)));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Unreadable: a reader reports it when it loads the run; the run is not dropped from sight.
            return true;
        }
    }

    /// <summary>
    /// The run whose results file is <paramref name="path"/> (a run's or a shard's .jsonl), or null when the
    /// name is not a checkpoint file's.
    /// </summary>
    public static RunSet? FromResultsPath(string path)
    {
        string full = Path.GetFullPath(path);
        string? directory = Path.GetDirectoryName(full);
        string name = Path.GetFileName(full);
        if (directory is null)
        {
            return null;
        }

        return Find(directory, id => name == id + RunFiles.ResultsExtension || name.StartsWith(id + "_shard-", StringComparison.Ordinal))
            .FirstOrDefault(set => set.Parts.Any(p => string.Equals(p.ResultsPath, full, StringComparison.Ordinal)));
    }

    /// <summary>Loads every results file of the run as one index.</summary>
    public CheckpointIndex Load() => CheckpointLoader.Load(Parts.Select(p => p.ResultsPath).ToList());

    /// <summary>Reads each part's state file.</summary>
    public IReadOnlyList<StateReadResult> ReadStates() => Parts.Select(p => StateFile.Read(p.StatePath)).ToList();

    /// <summary>
    /// Every file of the run: each part's results, state, errors log, lock, lock info and sidecars, and the run
    /// id marker when it names the run.
    /// </summary>
    public IReadOnlyList<string> AllFiles() => Parts.SelectMany(p => p.ExistingFiles())
        .Concat(RunIdMarker.Names(Directory, RunId) ? new[] { Parts[0].RunIdMarkerPath } : Array.Empty<string>())
        .Distinct(StringComparer.Ordinal).ToList();

    /// <summary>
    /// The stats of the whole run, or of each part when <paramref name="perPart"/> is set. What a reader should
    /// know of the files goes to <paramref name="warn"/>: lines skipped, a damaged tail, a state file that is
    /// missing or damaged (the run's status is then <see cref="UnknownStatus"/>).
    /// </summary>
    public IReadOnlyList<RunStats> GetStats(bool perPart = false, Action<string>? warn = null)
    {
        if (!perPart)
        {
            CheckpointIndex index = Load();
            IReadOnlyList<StateReadResult> states = ReadStates();
            Report(Parts, index, states, warn);
            return new[] { MakeStats(Parts, index, states, wholeRun: true) };
        }

        var stats = new List<RunStats>();
        foreach (RunFiles part in Parts)
        {
            CheckpointIndex index = CheckpointLoader.Load(part.ResultsPath);
            var states = new[] { StateFile.Read(part.StatePath) };
            Report(new[] { part }, index, states, warn);
            stats.Add(MakeStats(new[] { part }, index, states, wholeRun: false));
        }

        return stats;
    }

    /// <summary>
    /// A run's status when a part's state file is missing or damaged: the number of samples is not known,
    /// so neither is whether the run is complete.
    /// </summary>
    public const string UnknownStatus = "Unknown";

    /// <summary>
    /// The winning record of each sample whose <see cref="SampleResult.Status"/> is <paramref name="status"/>
    /// (Completed, Failed or Pending; null for all) and whose id is in <paramref name="sampleIds"/> (null for
    /// all), in file order. Failed means given up on, as in the stats; a sample whose last attempt failed but
    /// was not its last is Pending.
    /// </summary>
    public IEnumerable<SampleResult> GetResults(string? status = null, ISet<string>? sampleIds = null, Action<string>? warn = null)
    {
        CheckpointIndex index = Load();
        Report(Parts, index, Array.Empty<StateReadResult>(), warn);
        return index.ReadLatestRecords((id, entry) =>
                (status is null || string.Equals(SampleResult.StatusOf(entry.Status, entry.Final), status, StringComparison.Ordinal))
                && (sampleIds is null || sampleIds.Contains(id)))
            .Select(record => SampleResult.FromRecord(RunId, record));
    }

    /// <summary>
    /// Deletes every file of the run and nothing else, holding each part's lock and lease while it does: a part
    /// that a live process holds is <see cref="RunLockedException"/>, and then nothing is deleted. The state
    /// files go first, so that a removal cut short never leaves a state that a resume would take for a run with
    /// every sample pending. Returns the files deleted.
    /// </summary>
    public IReadOnlyList<string> Remove(LeaseOptions? lease = null, Action<string>? notify = null) =>
        RemoveParts(
            Parts.Concat(RunParts.DiscoverLeased(Directory, RunId)).GroupBy(p => p.BaseName, StringComparer.Ordinal).Select(g => g.First()).ToList(),
            lease,
            notify);

    /// <summary>
    /// Deletes the files of one part of a run (the unsharded files, or one shard's) as <see cref="Remove"/> does,
    /// and no other part's: what <c>-Overwrite</c> clears before a part starts again.
    /// </summary>
    public static IReadOnlyList<string> RemovePart(RunFiles part, LeaseOptions? lease = null, Action<string>? notify = null) =>
        RemoveParts(new List<RunFiles> { part }, lease, notify);

    private static IReadOnlyList<string> RemoveParts(List<RunFiles> parts, LeaseOptions? lease, Action<string>? notify)
    {
        lease ??= LeaseOptions.FromEnvironment();
        var held = new List<RunLock>();
        try
        {
            foreach (RunFiles part in parts)
            {
                held.Add(RunLock.Acquire(part, lease, notify, refuseOverlap: false));
            }

            var deleted = new List<string>();
            foreach (RunFiles part in parts.Where(p => File.Exists(p.StatePath)))
            {
                File.Delete(part.StatePath);
                deleted.Add(part.StatePath);
            }

            foreach (RunFiles part in parts)
            {
                foreach (string file in part.ExistingFiles().Where(f => f != part.LockPath && f != part.LeasePath))
                {
                    File.Delete(file);
                    deleted.Add(file);
                }
            }

            for (int i = 0; i < parts.Count; i++)
            {
                deleted.AddRange(held[i].DeleteFiles(parts[i]));
            }

            return deleted;
        }
        finally
        {
            foreach (RunLock runLock in held)
            {
                runLock.Dispose();
            }
        }
    }

    // Readers change no file: they tell what they skipped, and what a writer (Start-CheckpointRun,
    // Resume-CheckpointRun) would repair.
    private void Report(IReadOnlyList<RunFiles> parts, CheckpointIndex index, IReadOnlyList<StateReadResult> states, Action<string>? warn)
    {
        if (warn is null)
        {
            return;
        }

        foreach (LoadIssue issue in index.Issues)
        {
            warn(issue.Kind == LoadIssueKind.DamagedTail
                ? issue + " Left as it is; the next Start-CheckpointRun or Resume-CheckpointRun of the run moves those bytes to a .damaged file."
                : issue.ToString());
        }

        for (int i = 0; i < states.Count; i++)
        {
            if (states[i].State is null)
            {
                warn(string.Format(
                    System.Globalization.CultureInfo.InvariantCulture,
                    "Run '{0}': the state file '{1}' is {2}, so the run's number of samples is not known: its status is {3}, and TotalSamples counts only the {4} samples with a record. Start-CheckpointRun with the run's -Dataset, -Model, -Config and -Seed rebuilds it; completed samples are kept and skipped.",
                    RunId,
                    parts[i].StatePath,
                    states[i].Status == StateReadStatus.Missing ? "missing" : "damaged",
                    UnknownStatus,
                    index.CompletedCount + index.FailedCount));
            }
        }
    }

    // The whole run of a sharded run counts every row of the dataset, even when only some shards have files
    // here; a per-part row counts that shard's samples.
    private RunStats MakeStats(IReadOnlyList<RunFiles> parts, CheckpointIndex index, IReadOnlyList<StateReadResult> states, bool wholeRun)
    {
        List<RunState> known = states.Where(s => s.State is not null).Select(s => s.State!).ToList();
        RunState? first = known.OrderBy(s => s.StartedAt).FirstOrDefault();
        bool sharded = parts.Any(p => p.Shard is not null);
        int keptTotal = wholeRun && sharded
            ? known.Select(s => s.DatasetFingerprint?.Rows ?? 0).DefaultIfEmpty(0).Max()
            : known.Select(s => s.TotalSamples).DefaultIfEmpty(0).Max();
        RunTotals totals = RunTotals.OfFiles(index, keptTotal);
        LeaseOptions lease = LeaseOptions.FromEnvironment();
        string status = totals.StatusOfFiles(
            running: parts.Any(p => RunLock.Probe(p, lease).Live),
            unknown: known.Count < states.Count ? UnknownStatus : null,
            known);
        decimal average = totals.CostPerCompleted ?? 0;
        return new RunStats
        {
            InputTokens = totals.InputTokens,
            OutputTokens = totals.OutputTokens,
            TotalCost = totals.Cost,
            CacheHits = totals.CacheHits,
            CachedCost = totals.CachedCost,
            AverageCostPerSample = decimal.Round(average, 6),
            EstimatedRemainingCost = totals.RemainingCost(average),
            RunId = RunId,
            Dataset = first?.DatasetPath ?? string.Empty,
            Model = first?.Model ?? string.Empty,
            ConfigHash = first?.ConfigHash ?? RunId.Substring(RunId.Length - 8),
            Shards = string.Join(",", parts.Where(p => p.Shard is not null).Select(p => p.Shard!.ToString())),
            TotalSamples = totals.Total,
            CompletedSamples = totals.Completed,
            FailedSamples = totals.Failed,
            PendingSamples = totals.Pending,
            ErrorCount = index.ErrorCount,
            PercentComplete = totals.PercentComplete,
            StartedAt = first?.StartedAt.UtcDateTime,
            LastCheckpoint = RunTotals.LastCheckpoint(known, index)?.UtcDateTime,
            Status = status,
            OutputDirectory = Directory,
            Path = parts.Count > 0 ? parts[0].ResultsPath : string.Empty,
        };
    }
}
