using System.Collections;
using System.Collections.Generic;
using System.Management.Automation;
using Checkpoint.Commands.Internal;
using Checkpoint.Runs;
using Checkpoint.Store;
using Checkpoint.Sharding;
using Checkpoint.Commands.Blocks;

namespace Checkpoint.Commands;

/// <summary>
/// Start-CheckpointRun: runs -Process once for each sample of each dataset that is not already done, for
/// each model, and checkpoints every result. One RunSummary per dataset x model pair.
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "CheckpointRun", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = DefaultSet)]
[OutputType(typeof(RunSummary), typeof(SampleResult))]
public sealed class StartCheckpointRunCommand : RunCommandBase
{
    private const string DefaultSet = "Default";

    private ShardSpec? _shard;

    /// <summary>The dataset files (.csv or .jsonl); wildcards allowed.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = DefaultSet)]
    [Alias("FullName", "PSPath", "Path")]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[] Dataset { get; set; } = System.Array.Empty<string>();

    /// <summary>The work for one sample; the sample is $_ and the context $CheckpointContext.</summary>
    [Parameter(Mandatory = true, Position = 1)]
    public ScriptBlock Process { get; set; } = ScriptBlock.Create(string.Empty);

    /// <summary>The model names; one run per dataset x model.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[] Model { get; set; } = { "default" };

    /// <summary>The configuration, part of the config hash (secrets are left out of it and off the disk).</summary>
    [Parameter]
    public Hashtable Config { get; set; } = new();

    /// <summary>The run seed.</summary>
    [Parameter]
    public int Seed { get; set; }

    /// <summary>Where the run's files live; created if missing.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string OutputDirectory { get; set; } = CommandPaths.DefaultOutputDirectory;

    /// <summary>The column that holds the sample id.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? IdColumn { get; set; }

    /// <summary>The shard to process: k/n, or auto to read it from the scheduler's array task variables.</summary>
    [Parameter]
    public string? Shard { get; set; }

    /// <summary>With -Shard auto on Kubernetes: the number of shards (the Job's completions).</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int ShardCount { get; set; }

    /// <summary>fsync and state update every N results.</summary>
    [Parameter]
    [ValidateRange(KeptSettings.CheckpointEveryMin, KeptSettings.CheckpointEveryMax)]
    public int CheckpointEvery { get; set; } = KeptSettings.CheckpointEveryDefault;

    /// <summary>Process every sample again, appending new records.</summary>
    [Parameter]
    public SwitchParameter NoResume { get; set; }

    /// <summary>Delete the run's checkpoint files first.</summary>
    [Parameter]
    public SwitchParameter Overwrite { get; set; }

    /// <inheritdoc/>
    protected override void BeginProcessing()
    {
        base.BeginProcessing();
        if (string.Equals(Shard?.Trim(), "auto", System.StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                (ShardSpec shard, string source) = ShardSource.Resolve(System.Environment.GetEnvironmentVariables(), MyInvocation.BoundParameters.ContainsKey(nameof(ShardCount)) ? ShardCount : null);
                _shard = shard;
                WriteVerbose($"-Shard auto: shard {shard} from {source}.");
            }
            catch (CheckpointException e)
            {
                ErrorRecords.Report(this, e);
            }
        }
        else if (Shard is not null)
        {
            if (!ShardSpec.TryParse(Shard, out _shard, out string? problem))
            {
                ErrorRecords.Report(this, ErrorIds.InvalidShard, problem! + " Pass -Shard k/n with 1 <= k <= n.", Shard);
            }
        }
    }

    /// <inheritdoc/>
    protected override void ProcessRecord()
    {
        string outputDirectory = CommandPaths.Resolve(this, OutputDirectory);
        foreach (string datasetArgument in Dataset)
        {
            IEnumerable<string> datasets;
            try
            {
                datasets = CommandPaths.ResolveDatasets(this, datasetArgument);
            }
            catch (ItemNotFoundException e)
            {
                ErrorRecords.Report(this, ErrorIds.DatasetNotFound, e.Message, datasetArgument);
                continue;
            }

            foreach (string dataset in datasets)
            {
                foreach (string model in Model)
                {
                    if (StopToken.IsCancellationRequested)
                    {
                        return;
                    }

                    RunPlan plan = MakePlan(dataset, model, outputDirectory);
                    if (Overwrite.IsPresent && !RemoveExisting(plan))
                    {
                        continue;
                    }

                    Run(plan, Process);
                }
            }
        }
    }

    private RunPlan MakePlan(string dataset, string model, string outputDirectory)
    {
        var plan = new RunPlan
        {
            Definition = new RunDefinition
            {
                DatasetPath = dataset,
                IdColumn = IdColumn,
                Model = model,
                Config = ConfigConverter.ToPlain(Config),
                Seed = Seed,
                Shard = _shard,
                BlockText = Process.ToString(),
                CheckpointEvery = CheckpointEvery,
            },
            BlockConfig = Config,
            OutputDirectory = outputDirectory,
            NoResume = NoResume.IsPresent,
        };
        ApplyRunParameters(plan);
        return plan;
    }

    // -Overwrite: the files this plan would write go first (ShouldProcess per run): the run's, or only this
    // shard's, never the other shards' (they may belong to other machines).
    private bool RemoveExisting(RunPlan plan)
    {
        RunFiles files = new RunLauncher(plan).ResolveFiles();
        IReadOnlyList<string> existing = files.ExistingFiles();
        if (existing.Count == 0)
        {
            return true;
        }

        // Under -WhatIf, ShouldProcess says what it would delete and returns false; the run's own -WhatIf
        // line still follows.
        bool confirmed = ShouldProcess(files.BaseName, $"Delete {existing.Count} checkpoint file(s) (-Overwrite)");
        if (IsWhatIf())
        {
            return true;
        }

        if (!confirmed)
        {
            return false;
        }

        try
        {
            foreach (string file in RunSet.RemovePart(files, notify: WriteWarning))
            {
                WriteVerbose("Deleted " + file);
            }
        }
        catch (CheckpointException e)
        {
            ErrorRecords.Report(this, e);
            return false;
        }

        return true;
    }
}
