using System.Collections.Generic;
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

    // The results files of the runs this command had by -Path, so that a run piped in as several shard files is had once.
    private readonly HashSet<string> _seen = new(System.StringComparer.Ordinal);

    /// <summary>The runs (wildcards allowed); all runs in the directory when omitted.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = RunIdSet)]
    [ArgumentCompleter(typeof(RunIdCompleter))]
    [SupportsWildcards]
    public string[]? RunId { get; set; }

    /// <summary>A run's .jsonl file (a shard's file names its whole run); Get-ChildItem's files bind by FullName or PSPath.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = PathSet)]
    [Alias("PSPath", "FullName")]
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
        var sets = RunSelector.Resolve(this, ParameterSetName == PathSet, Path, OutputDirectory, RunId, _seen);
        foreach (RunSet set in sets)
        {
            foreach (RunStats stats in set.GetStats(PerShard.IsPresent, WriteWarning))
            {
                WriteObject(stats);
            }
        }
    }
}
