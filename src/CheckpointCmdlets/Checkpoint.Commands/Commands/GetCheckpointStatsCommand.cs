using System.Management.Automation;
using Checkpoint.Commands.Internal;
using Checkpoint.Runs;

namespace Checkpoint.Commands;

/// <summary>
/// Get-CheckpointStats: one RunStats per run, with flat properties for Export-Csv. Read-only: works while a
/// run is writing and on a torn file, and never takes a run's lock.
/// </summary>
[Cmdlet(VerbsCommon.Get, "CheckpointStats", DefaultParameterSetName = RunIdSet)]
[OutputType(typeof(RunStats))]
public sealed class GetCheckpointStatsCommand : PSCmdlet
{
    private const string RunIdSet = "RunId";
    private const string PathSet = "Path";

    /// <summary>The runs (wildcards allowed); all runs in the directory when omitted.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = RunIdSet)]
    [ArgumentCompleter(typeof(RunIdCompleter))]
    [SupportsWildcards]
    public string[]? RunId { get; set; }

    /// <summary>A run's .jsonl file.</summary>
    [Parameter(Mandatory = true, ParameterSetName = PathSet)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = string.Empty;

    /// <summary>Where the runs live.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true, ParameterSetName = RunIdSet)]
    [ValidateNotNullOrEmpty]
    public string OutputDirectory { get; set; } = CommandPaths.DefaultOutputDirectory;

    /// <summary>One row per shard instead of one per run.</summary>
    [Parameter]
    public SwitchParameter PerShard { get; set; }

    /// <inheritdoc/>
    protected override void ProcessRecord()
    {
        var sets = RunSelector.Resolve(this, ParameterSetName == PathSet, Path, OutputDirectory, RunId);
        foreach (RunSet set in sets)
        {
            foreach (RunStats stats in set.GetStats(PerShard.IsPresent, WriteWarning))
            {
                WriteObject(stats);
            }
        }
    }
}
