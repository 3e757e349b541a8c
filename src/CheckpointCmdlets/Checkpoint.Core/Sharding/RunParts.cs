using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;
using Checkpoint.Store;

namespace Checkpoint.Sharding;

/// <summary>
/// The parts of a run found on disk: its unsharded files and each shard's, told apart by the
/// <c>_shard-k-of-n</c> in their names (see <see cref="RunFiles"/>).
/// </summary>
public static class RunParts
{
    /// <summary>
    /// The parts of <paramref name="runId"/> that have a results or state file in <paramref name="directory"/>:
    /// the unsharded files and each shard's, unsharded first, then by shard count and index.
    /// </summary>
    public static IReadOnlyList<RunFiles> Discover(string directory, string runId)
    {
        if (!System.IO.Directory.Exists(directory))
        {
            return Array.Empty<RunFiles>();
        }

        return PartsNamed(directory, runId, RunFiles.RunFileName);
    }

    /// <summary>
    /// The parts of <paramref name="runId"/> that have a lease file in <paramref name="directory"/>, whether or not
    /// they have written anything yet: what a writer looks at for a live part that overlaps its own.
    /// </summary>
    public static IReadOnlyList<RunFiles> DiscoverLeased(string directory, string runId)
    {
        if (!System.IO.Directory.Exists(directory))
        {
            return Array.Empty<RunFiles>();
        }

        return PartsNamed(directory, runId, RunFiles.LeaseFileName);
    }

    private static IReadOnlyList<RunFiles> PartsNamed(string directory, string runId, Regex shape)
    {
        var shards = new List<ShardSpec?>();
        foreach (string path in System.IO.Directory.EnumerateFiles(directory, runId + "*"))
        {
            Match match = shape.Match(System.IO.Path.GetFileName(path));
            if (!match.Success || match.Groups["run"].Value != runId)
            {
                continue;
            }

            ShardSpec? shard = null;
            if (match.Groups["shard"].Success)
            {
                string[] parts = match.Groups["shard"].Value.Split('-');
                if (!ShardSpec.TryParse(parts[1] + "/" + parts[3], out shard, out _))
                {
                    continue;
                }
            }

            if (!shards.Contains(shard))
            {
                shards.Add(shard);
            }
        }

        return shards
            .OrderBy(s => s is null ? 0 : 1).ThenBy(s => s?.Count ?? 0).ThenBy(s => s?.Index ?? 0)
            .Select(s => new RunFiles(directory, runId, s))
            .ToList();
    }
}
