using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using Checkpoint.IO;
using Checkpoint.Security;
using Checkpoint.Store;
using Checkpoint.Sharding;

namespace Checkpoint.Runs;

/// <summary>What a resume reads of a run: which run to resume, the definition each part keeps, and the shards it lacks.</summary>
public sealed partial class RunSet
{
    /// <summary>
    /// The newest run in <paramref name="directory"/> that is not completed (by its last checkpoint, else its
    /// start), or null when every run there is. A missing directory is <see cref="ErrorIds.RunNotFound"/>: a
    /// scheduled resume started in the wrong folder must not pass for one with nothing left to do.
    /// </summary>
    public static RunSet? FindLatest(string directory)
    {
        if (!System.IO.Directory.Exists(directory))
        {
            throw new CheckpointException(
                ErrorIds.RunNotFound,
                $"There is no output directory '{directory}', so no run to resume. Check -OutputDirectory; a relative path starts at the current location.")
            { Target = directory };
        }

        return Find(directory)
            .Select(set => (Set: set, Stats: set.GetStats()[0]))
            .Where(x => x.Stats.Status != nameof(RunStatus.Completed))
            .OrderByDescending(x => x.Stats.LastCheckpoint ?? x.Stats.StartedAt ?? DateTime.MinValue)
            .Select(x => x.Set)
            .FirstOrDefault();
    }

    /// <summary>
    /// The definition <paramref name="part"/>'s state file keeps, for a resume of that part: as
    /// <see cref="RunDefinition.FromState"/> reads it, with the part's shard. The kept settings whose parameters
    /// <paramref name="givenAnew"/> names are not read. Throws <see cref="CheckpointException"/>:
    /// <see cref="ErrorIds.CannotResume"/> when the state file is missing or damaged or keeps what cannot be
    /// used, <see cref="ErrorIds.StateChangedOutside"/> when it was changed outside the module and no block is
    /// given anew (its stored block is then not run), <see cref="ErrorIds.StoredProcessUntrusted"/> when no block
    /// is given anew and the stored one is not signed with the user's key, unless <paramref name="trustStoredBlock"/>
    /// (the caller asked, and the run then signs it with the key).
    /// </summary>
    public RunDefinition DefinitionOf(RunFiles part, Func<string, bool>? givenAnew = null, bool trustStoredBlock = false)
    {
        StateReadResult read = StateFile.Read(part.StatePath);
        if (read.State is not RunState state || state.DatasetPath is null || state.Model is null)
        {
            throw new CheckpointException(
                ErrorIds.CannotResume,
                $"Run '{RunId}' cannot be resumed: its state file '{part.StatePath}' is {(read.Status == StateReadStatus.Missing ? "missing" : "damaged")}. Start it again with Start-CheckpointRun and the same -Dataset, -Model, -Config and -Seed: completed samples are kept and skipped.")
            { Target = RunId };
        }

        if (read.Status == StateReadStatus.ChangedOutside && givenAnew?.Invoke(KeptSettings.BlockParameter) != true)
        {
            throw new CheckpointException(
                ErrorIds.StateChangedOutside,
                $"The state file '{part.StatePath}' was changed outside the module, so its stored -Process block is not run. Check the file, then resume with -Process given anew.")
            { Target = RunId };
        }

        if (givenAnew?.Invoke(KeptSettings.BlockParameter) != true && !trustStoredBlock && UntrustedBecause(state) is string why)
        {
            throw new CheckpointException(
                ErrorIds.StoredProcessUntrusted,
                $"Run '{RunId}': the -Process block that its state file '{part.StatePath}' keeps is not run, because {why}. Give -Process anew, or read the block in that file and, if you trust it, resume with -TrustStoredProcess, which signs it with your key.")
            { Target = RunId };
        }

        RunDefinition definition = RunDefinition.FromState(state, givenAnew);
        definition.Shard = part.Shard;
        return definition;
    }

    /// <summary>
    /// A warning for a state file that someone else could have written, or null: on Unix, one owned by another
    /// user, or that its group or others may write. The signature is the guard; this says where to look.
    /// </summary>
    public static string? StateFileOpenToOthers(RunFiles part)
    {
        if (UnixFiles.StatusOf(part.StatePath) is not UnixFiles.Status status)
        {
            return null;
        }

        string? how = status.Owner != UnixFiles.CurrentUser ? $"is owned by another user (uid {status.Owner})"
            : (status.Mode & 0x12) != 0 ? "is writable by its group or by others"
            : null;
        return how is null ? null : $"The state file '{part.StatePath}' {how}: whoever can write it can change what a resume runs. A resume still runs only a block signed with your key.";
    }

    // Why the block kept in the state is not to be run as it is, or null when it is signed with this user's key.
    private static string? UntrustedBecause(RunState state)
    {
        if (UserKey.TryLoad(UserKey.DefaultPath(), create: false, out string? problem) is not byte[] key)
        {
            return problem + " (a new key could not have signed it)";
        }

        if (!state.Settings.ContainsKey(StoredProcessSignature.Setting))
        {
            return "it is not signed (a run of a release before signing, or one whose key could not be used)";
        }

        return StoredProcessSignature.Verify(key, state)
            ? null
            : "its signature does not match: the block or the run's settings were changed since it was signed, or another user's key signed it";
    }

    /// <summary>
    /// The shards of the run that have no files here, for each shard count its parts use. A resume continues
    /// the parts it finds, so the samples of these stay pending however often the run is resumed.
    /// </summary>
    public IReadOnlyList<ShardSpec> MissingShards() =>
        Parts.Where(p => p.Shard is not null).Select(p => p.Shard!.Count).Distinct()
            .SelectMany(count => Enumerable.Range(1, count).Select(k => new ShardSpec(k, count)))
            .Where(shard => !Parts.Any(p => shard.Equals(p.Shard)))
            .ToList();

    /// <summary>Tells <paramref name="warn"/> of the shards that have no files here, and how to finish them; once per shard count.</summary>
    public void WarnOfMissingShards(Action<string> warn)
    {
        foreach (IGrouping<int, ShardSpec> missing in MissingShards().GroupBy(s => s.Count))
        {
            warn($"Run '{RunId}' has no files for shard {string.Join(", ", missing.Select(s => s.ToString()))} in '{Directory}': a resume continues only the shards it finds, so their samples stay pending. Start them with Start-CheckpointRun -Shard, or finish the whole run here with Start-CheckpointRun and no -Shard.");
        }
    }
}
