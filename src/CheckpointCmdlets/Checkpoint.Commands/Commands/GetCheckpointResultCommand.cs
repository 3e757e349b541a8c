using System.Collections.Generic;
using System.Management.Automation;
using Checkpoint.Commands.Internal;
using Checkpoint.Runs;
using Checkpoint.Commands.Blocks;

namespace Checkpoint.Commands;

/// <summary>Which results Get-CheckpointResult returns.</summary>
public enum ResultStatusFilter
{
    /// <summary>Every sample's latest record.</summary>
    All,

    /// <summary>Samples whose latest record is completed.</summary>
    Completed,

    /// <summary>Samples given up on: retries used up, or a permanent error.</summary>
    Failed,

    /// <summary>Samples whose last attempt failed but was not their last: a resume tries them again.</summary>
    Pending,
}

/// <summary>
/// Get-CheckpointResult: the latest record of each sample, with its output rebuilt as objects, for analysis
/// and reruns, of the runs named or of every run in the directory. Across the shards of a run, the latest
/// record of a sample wins.
/// </summary>
[Cmdlet(VerbsCommon.Get, "CheckpointResult", DefaultParameterSetName = RunIdSet)]
[OutputType(typeof(SampleResult))]
public sealed class GetCheckpointResultCommand : PSCmdlet
{
    private const string RunIdSet = "RunId";
    private const string PathSet = "Path";

    // The results files of the runs this command had by -Path, so that a run piped in as several shard files is had once.
    private readonly HashSet<string> _seen = new(System.StringComparer.Ordinal);

    /// <summary>The runs (wildcards allowed); all runs in the directory when omitted, as Get-CheckpointStats does.</summary>
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

    /// <summary>Completed, Failed, Pending or All (the default).</summary>
    [Parameter]
    public ResultStatusFilter Status { get; set; } = ResultStatusFilter.All;

    /// <summary>Only these samples.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? SampleId { get; set; }

    /// <inheritdoc/>
    protected override void ProcessRecord()
    {
        var sets = RunSelector.Resolve(this, ParameterSetName == PathSet, Path, OutputDirectory, RunId, _seen);
        string? status = Status == ResultStatusFilter.All ? null : Status.ToString();
        ISet<string>? ids = SampleId is null ? null : new HashSet<string>(SampleId, System.StringComparer.Ordinal);
        foreach (RunSet set in sets)
        {
            foreach (SampleResult result in set.GetResults(status, ids, WriteWarning))
            {
                result.Output = PSJson.Deserialize(result.OutputJson);
                WriteObject(result);
            }
        }
    }
}
