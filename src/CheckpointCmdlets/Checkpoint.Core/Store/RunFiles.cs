using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Checkpoint.Identity;
using Checkpoint.Sharding;

namespace Checkpoint.Store;

/// <summary>
/// The names of the files of one run, or of one shard of it, in its output directory:
/// <c>{base}.jsonl</c> (results), <c>{base}_resume_state.json</c> (manifest and state), <c>{base}_errors.log</c>,
/// <c>{base}.lock</c> and <c>{base}.lock.json</c> (the OS lock and the lease that names who holds it), and
/// <c>{base}.jsonl.damaged-*</c> (bytes cut from a damaged tail), where base is the run id, followed by
/// <c>_shard-k-of-n</c> for a shard; and, for the whole run, its run id marker (see <see cref="RunIdMarkerPath"/>).
/// </summary>
public sealed class RunFiles
{
    /// <summary>The file name suffix of a run's results.</summary>
    public const string ResultsExtension = ".jsonl";

    /// <summary>The file name suffix of a run's state.</summary>
    public const string StateSuffix = "_resume_state.json";

    /// <summary>The name of a part's lease file; groups: run, and shard (shard-k-of-n) for a shard.</summary>
    internal static readonly Regex LeaseFileName = new(
        @"^(?<run>\d{8}_[A-Za-z0-9._-]+_[0-9a-f]{8})(?:_(?<shard>shard-\d+-of-\d+))?\.lock\.json\z",
        RegexOptions.CultureInvariant);

    /// <summary>The name of a part's results or state file; groups: run, and shard (shard-k-of-n) for a shard.</summary>
    internal static readonly Regex RunFileName = new(
        @"^(?<run>\d{8}_[A-Za-z0-9._-]+_[0-9a-f]{8})(?:_(?<shard>shard-\d+-of-\d+))?(?:\.jsonl|_resume_state\.json)\z",
        RegexOptions.CultureInvariant);

    /// <summary>Names the files of <paramref name="runId"/> (or of one shard of it) in <paramref name="directory"/>.</summary>
    public RunFiles(string directory, string runId, ShardSpec? shard = null)
    {
        if (!IsValidRunId(runId))
        {
            throw new ArgumentException($"'{runId}' is not a run id: it must be yyyyMMdd_dataset_model_hash8 in [A-Za-z0-9._-].", nameof(runId));
        }

        Directory = System.IO.Path.GetFullPath(directory);
        RunId = runId;
        Shard = shard;
        BaseName = shard is null ? runId : runId + "_" + shard.FileTag;
    }

    /// <summary>The output directory, as a full path.</summary>
    public string Directory { get; }

    /// <summary>The run id.</summary>
    public string RunId { get; }

    /// <summary>The shard these files belong to, or null for the unsharded run.</summary>
    public ShardSpec? Shard { get; }

    /// <summary>The common start of every file name.</summary>
    public string BaseName { get; }

    /// <summary>The results file.</summary>
    public string ResultsPath => Combine(ResultsExtension);

    /// <summary>The state file.</summary>
    public string StatePath => Combine(StateSuffix);

    /// <summary>The human-readable errors log.</summary>
    public string ErrorLogPath => Combine("_errors.log");

    /// <summary>The lock file.</summary>
    public string LockPath => Combine(".lock");

    /// <summary>The lease file: who holds the part, with the token a writer checks before each write.</summary>
    public string LeasePath => Combine(".lock.json");

    /// <summary>
    /// The run id marker, <c>{dataset}_{model}_{hash8}.runid</c>: which run every start of the study joins. It is
    /// the run's when it names the run, and goes with the run's last part.
    /// </summary>
    public string RunIdMarkerPath => RunIdMarker.PathFor(Directory, RunId.Substring(8));

    /// <summary>True when <paramref name="runId"/> has the shape of a run id and only safe characters.</summary>
    public static bool IsValidRunId(string? runId) =>
        runId is not null && Regex.IsMatch(runId, @"^\d{8}_[A-Za-z0-9._-]+_[0-9a-f]{8}\z", RegexOptions.CultureInvariant);

    /// <summary>The run ids that have a results or state file in <paramref name="directory"/>.</summary>
    public static IReadOnlyList<string> DiscoverRunIds(string directory)
    {
        if (!System.IO.Directory.Exists(directory))
        {
            return Array.Empty<string>();
        }

        return System.IO.Directory.EnumerateFiles(directory)
            .Select(p => RunFileName.Match(System.IO.Path.GetFileName(p)))
            .Where(m => m.Success)
            .Select(m => m.Groups["run"].Value)
            .Distinct(StringComparer.Ordinal)
            .OrderBy(id => id, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>
    /// Every file that belongs to this run or shard: results, state, errors log, lock, lease, sidecars, temp and
    /// claim files, and the run id marker when it names the run and no other part of the run has files here.
    /// </summary>
    public IReadOnlyList<string> ExistingFiles()
    {
        if (!System.IO.Directory.Exists(Directory))
        {
            return Array.Empty<string>();
        }

        string[] exact = { ResultsPath, StatePath, ErrorLogPath, LockPath, LeasePath };
        var found = exact.Where(File.Exists).ToList();
        // Sidecars and temp files by their exact shapes, so that no other run's file can match by prefix.
        var sidecar = new Regex(
            "^" + Regex.Escape(BaseName) + @"(?:\.jsonl\.damaged-\d{8}T\d{9}Z-at-\d+|_resume_state\.json\.tmp-\d+|\.lock\.json\.tmp-\d+|\.lock\.json\.takeover-[0-9a-f]{32})\z",
            RegexOptions.CultureInvariant);
        found.AddRange(System.IO.Directory.EnumerateFiles(Directory, BaseName + "*").Where(p => sidecar.IsMatch(System.IO.Path.GetFileName(p))));
        // With the run's last part gone, a later start begins a new dated run instead of joining the marker's.
        if (RunIdMarker.Names(Directory, RunId) && RunParts.Discover(Directory, RunId).All(p => p.BaseName == BaseName))
        {
            found.Add(RunIdMarkerPath);
        }

        return found;
    }

    private string Combine(string suffix) => System.IO.Path.Combine(Directory, BaseName + suffix);
}
