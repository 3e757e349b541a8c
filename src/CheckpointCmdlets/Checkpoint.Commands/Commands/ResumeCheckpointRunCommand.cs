using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Management.Automation;
using Checkpoint.Commands.Internal;
using Checkpoint.Runs;
using Checkpoint.Store;
using Checkpoint.Commands.Blocks;

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

    /// <summary>
    /// Run the stored block even though it is not signed with the user's key, and sign it: for a block the user
    /// has read in the state file and trusts. Asks first unless -Confirm:$false.
    /// </summary>
    [Parameter]
    public SwitchParameter TrustStoredProcess { get; set; }

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

    // Trusting stored code is a decision of high impact: it is asked for (ShouldContinue) unless the caller said
    // -Confirm:$false, and -WhatIf only says what it would do.
    private bool ConfirmTrust(RunSet set, RunFiles part)
    {
        string action = "Run and sign with your key the -Process block kept in " + part.StatePath;
        if (!ShouldProcess(set.RunId, action) || WhatIf.IsActive(this))
        {
            return false;
        }

        bool confirmedAlready = MyInvocation.BoundParameters.TryGetValue("Confirm", out object? confirm) && confirm is SwitchParameter { IsPresent: false };
        return confirmedAlready || ShouldContinue(action + "? Read it first: whoever could write the state file could have changed it.", "Trust a stored block");
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
        if (RunSet.StateFileOpenToOthers(part) is string warning)
        {
            WriteWarning(warning);
        }

        bool trust = TrustStoredProcess.IsPresent && Process is null && ConfirmTrust(set, part);
        if (TrustStoredProcess.IsPresent && !trust)
        {
            return null;
        }

        RunDefinition definition;
        try
        {
            definition = set.DefinitionOf(part, IsGiven, trust);
        }
        catch (CheckpointException e)
        {
            ErrorRecords.Report(this, e);
            return null;
        }

        if (trust)
        {
            WriteVerbose($"Trusting the -Process block kept in '{part.StatePath}'; the run signs it with your key.");
        }

        ScriptBlock block = Process ?? ScriptBlock.Create(definition.BlockText);
        definition.BlockText = block.ToString();
        var plan = new RunPlan { Definition = definition, RunId = set.RunId, OutputDirectory = set.Directory };
        ApplyRunParameters(plan);
        return (plan, block);
    }
}
