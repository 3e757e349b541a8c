using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Management.Automation;
using System.Text.Json;
using Checkpoint.Commands.Internal;
using Checkpoint.Identity;
using Checkpoint.Json;
using Checkpoint.Runs;
using Checkpoint.Store;

namespace Checkpoint.Commands;

/// <summary>
/// Resume-CheckpointRun: continues a run from what its state file keeps (dataset, model, config, seed, shard
/// and the text of -Process), processing pending samples and retrying failed ones. Idempotent: on a
/// completed run it does nothing and returns the summary.
/// </summary>
[Cmdlet(VerbsLifecycle.Resume, "CheckpointRun", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = RunIdSet)]
[OutputType(typeof(RunSummary), typeof(SampleResult))]
public sealed class ResumeCheckpointRunCommand : RunCommandBase
{
    private const string RunIdSet = "RunId";
    private const string PathSet = "Path";
    private const string LatestSet = "Latest";

    /// <summary>The runs to resume (wildcards allowed).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = RunIdSet)]
    [ArgumentCompleter(typeof(RunIdCompleter))]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[] RunId { get; set; } = Array.Empty<string>();

    /// <summary>A run's .jsonl file.</summary>
    [Parameter(Mandatory = true, ParameterSetName = PathSet)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = string.Empty;

    /// <summary>The newest run in the directory that is not completed.</summary>
    [Parameter(Mandatory = true, ParameterSetName = LatestSet)]
    public SwitchParameter Latest { get; set; }

    /// <summary>Where the runs live.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true, ParameterSetName = RunIdSet)]
    [Parameter(ParameterSetName = LatestSet)]
    [ValidateNotNullOrEmpty]
    public string OutputDirectory { get; set; } = CommandPaths.DefaultOutputDirectory;

    /// <summary>A block to use instead of the stored one.</summary>
    [Parameter]
    public ScriptBlock? Process { get; set; }

    /// <inheritdoc/>
    protected override void ProcessRecord()
    {
        IReadOnlyList<RunSet> sets = ParameterSetName switch
        {
            LatestSet => FindLatest(),
            _ => RunSelector.Resolve(this, ParameterSetName == PathSet, Path, OutputDirectory, RunId),
        };
        foreach (RunSet set in sets)
        {
            if (StopToken.IsCancellationRequested)
            {
                return;
            }

            WarnOfMissingShards(set);
            foreach (RunFiles part in set.Parts)
            {
                if (MakePlan(set, part) is (RunPlan plan, ScriptBlock block))
                {
                    Run(plan, block);
                }
            }
        }
    }

    // A resume continues the parts it finds. A shard that never started has no files here, so its samples
    // stay pending however often the run is resumed: say so, and how to finish them.
    private void WarnOfMissingShards(RunSet set)
    {
        foreach (int count in set.Parts.Where(p => p.Shard is not null).Select(p => p.Shard!.Count).Distinct())
        {
            var missing = Enumerable.Range(1, count)
                .Where(k => !set.Parts.Any(p => p.Shard is ShardSpec shard && shard.Count == count && shard.Index == k))
                .Select(k => k.ToString(CultureInfo.InvariantCulture) + "/" + count.ToString(CultureInfo.InvariantCulture))
                .ToList();
            if (missing.Count > 0)
            {
                WriteWarning($"Run '{set.RunId}' has no files for shard {string.Join(", ", missing)} in '{set.Directory}': a resume continues only the shards it finds, so their samples stay pending. Start them with Start-CheckpointRun -Shard, or finish the whole run here with Start-CheckpointRun and no -Shard.");
            }
        }
    }

    private IReadOnlyList<RunSet> FindLatest()
    {
        string directory = CommandPaths.Resolve(this, OutputDirectory);
        if (!System.IO.Directory.Exists(directory))
        {
            // A scheduled resume started in the wrong folder must not pass for one with nothing left to do.
            WriteError(ErrorRecords.Create(
                ErrorRecords.RunNotFound,
                ErrorCategory.ObjectNotFound,
                $"There is no output directory '{directory}', so no run to resume. Check -OutputDirectory; a relative path starts at the current location.",
                directory));
            return Array.Empty<RunSet>();
        }

        RunSet? latest = RunSet.Find(directory)
            .Select(set => (Set: set, Stats: set.GetStats()[0]))
            .Where(x => x.Stats.Status != nameof(RunStatus.Completed))
            .OrderByDescending(x => x.Stats.LastCheckpoint ?? x.Stats.StartedAt ?? DateTime.MinValue)
            .Select(x => x.Set)
            .FirstOrDefault();
        if (latest is null)
        {
            WriteVerbose($"Every run in '{directory}' is completed; nothing to resume.");
            return Array.Empty<RunSet>();
        }

        return new[] { latest };
    }

    private (RunPlan, ScriptBlock)? MakePlan(RunSet set, RunFiles part)
    {
        StateReadResult read = StateFile.Read(part.StatePath);
        RunState? state = read.State;
        if (state is null || state.DatasetPath is null || state.Model is null)
        {
            WriteError(ErrorRecords.Create(
                ErrorRecords.CannotResume,
                ErrorCategory.InvalidData,
                $"Run '{set.RunId}' cannot be resumed: its state file '{part.StatePath}' is {(read.Status == StateReadStatus.Missing ? "missing" : "damaged")}. Start it again with Start-CheckpointRun and the same -Dataset, -Model, -Config and -Seed: completed samples are kept and skipped.",
                set.RunId));
            return null;
        }

        if (read.Status == StateReadStatus.ChangedOutside && Process is null)
        {
            WriteError(ErrorRecords.Create(
                ErrorRecords.StateChangedOutside,
                ErrorCategory.SecurityError,
                $"The state file '{part.StatePath}' was changed outside the module, so its stored -Process block is not run. Check the file, then resume with -Process given anew.",
                set.RunId));
            return null;
        }

        string? text = state.Settings.TryGetValue(RunSettings.Process, out object? stored) ? stored as string : null;
        ScriptBlock? block = Process ?? (text is null ? null : ScriptBlock.Create(text));
        if (block is null)
        {
            WriteError(ErrorRecords.Create(ErrorRecords.CannotResume, ErrorCategory.InvalidData, $"Run '{set.RunId}' keeps no -Process block. Resume it with -Process.", set.RunId));
            return null;
        }

        var plan = new RunPlan
        {
            RunId = set.RunId,
            DatasetPath = state.DatasetPath,
            Model = state.Model,
            Config = ToHashtable(state.ConfigJson),
            Seed = state.Seed,
            OutputDirectory = set.Directory,
            IdColumn = state.IdColumn,
            Shard = part.Shard,
            CheckpointEvery = Setting(state, RunSettings.CheckpointEvery) ?? 10,
        };
        plan.Settings[RunSettings.Process] = block.ToString();
        plan.Settings[RunSettings.CheckpointEvery] = plan.CheckpointEvery;
        if (RestoreRunParameters(state) is string problem)
        {
            WriteError(ErrorRecords.Create(
                ErrorRecords.CannotResume,
                ErrorCategory.InvalidData,
                $"Run '{set.RunId}' cannot be resumed: {problem}. Give that parameter to Resume-CheckpointRun, or correct the file.",
                set.RunId));
            return null;
        }

        ApplyRunParameters(plan);
        return (plan, block);
    }

    private static int? Setting(RunState state, string name) =>
        state.Settings.TryGetValue(name, out object? value) && value is long number ? (int)number : null;

    private static Hashtable ToHashtable(string? json)
    {
        if (json is null)
        {
            return new Hashtable(StringComparer.OrdinalIgnoreCase);
        }

        using JsonDocument document = JsonDocument.Parse(json);
        return ConfigConverter.FromStored(PlainJson.ToPlain(document.RootElement)) as Hashtable ?? new Hashtable(StringComparer.OrdinalIgnoreCase);
    }
}
