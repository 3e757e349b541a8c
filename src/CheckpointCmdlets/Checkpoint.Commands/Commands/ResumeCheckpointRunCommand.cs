using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Management.Automation;
using Checkpoint.Commands.Internal;
using Checkpoint.Identity;
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
        RunDefinition definition;
        try
        {
            definition = set.DefinitionOf(part, IsGiven);
        }
        catch (CheckpointException e)
        {
            WriteError(ErrorRecords.From(e));
            return null;
        }

        ScriptBlock block = Process ?? ScriptBlock.Create(definition.BlockText);
        definition.BlockText = block.ToString();
        var plan = new RunPlan { Definition = definition, RunId = set.RunId, OutputDirectory = set.Directory };
        ApplyRunParameters(plan);
        return (plan, block);
    }
}
