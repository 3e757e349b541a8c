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

    // The results files of the runs this command had by -Path, so that a run is resumed once per command.
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);

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
            _ => RunSelector.Resolve(this, ParameterSetName == PathSet, Path, OutputDirectory, RunId, _seen),
        };
        foreach (RunSet set in sets)
        {
            if (StopToken.IsCancellationRequested)
            {
                return;
            }

            set.WarnOfMissingShards(WriteWarning);
            foreach (RunFiles part in set.Parts)
            {
                if (MakePlan(set, part) is (RunPlan plan, ScriptBlock block))
                {
                    Run(plan, block);
                }
            }
        }
    }

    private IReadOnlyList<RunSet> FindLatest()
    {
        string directory = CommandPaths.Resolve(this, OutputDirectory);
        RunSet? latest;
        try
        {
            latest = RunSet.FindLatest(directory);
        }
        catch (CheckpointException e)
        {
            ErrorRecords.Report(this, e);
            return Array.Empty<RunSet>();
        }

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
            ErrorRecords.Report(this, e);
            return null;
        }

        ScriptBlock block = Process ?? ScriptBlock.Create(definition.BlockText);
        definition.BlockText = block.ToString();
        var plan = new RunPlan { Definition = definition, RunId = set.RunId, OutputDirectory = set.Directory };
        ApplyRunParameters(plan);
        return (plan, block);
    }
}
