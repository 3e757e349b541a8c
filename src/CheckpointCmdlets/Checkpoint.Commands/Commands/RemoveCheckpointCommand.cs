using System.Collections.Generic;
using System.Globalization;
using System.Management.Automation;
using Checkpoint.Commands.Internal;
using Checkpoint.Runs;

namespace Checkpoint.Commands;

/// <summary>
/// Remove-Checkpoint: deletes every file of a run (results, state, errors log, lock, sidecars, shard files)
/// and nothing else. Refuses a run held by a live process.
/// </summary>
[Cmdlet(VerbsCommon.Remove, "Checkpoint", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = RunIdSet)]
[OutputType(typeof(void))]
public sealed class RemoveCheckpointCommand : PSCmdlet
{
    private const string RunIdSet = "RunId";
    private const string PathSet = "Path";

    // The results files of the runs this command had by -Path, so that a run piped in as several shard files is had once.
    private readonly HashSet<string> _seen = new(System.StringComparer.Ordinal);

    /// <summary>The runs (wildcards matched against the runs found in the directory).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = RunIdSet)]
    [ArgumentCompleter(typeof(RunIdCompleter))]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[] RunId { get; set; } = System.Array.Empty<string>();

    /// <summary>A run's .jsonl file (a shard's file names its whole run); Get-ChildItem's files bind by FullName or PSPath.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = PathSet)]
    [Alias("PSPath", "FullName")]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = string.Empty;

    /// <summary>Where the runs live.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true, ParameterSetName = RunIdSet)]
    [ValidateNotNullOrEmpty]
    public string OutputDirectory { get; set; } = CommandPaths.DefaultOutputDirectory;

    /// <summary>Delete without asking.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <inheritdoc/>
    protected override void ProcessRecord()
    {
        var sets = RunSelector.Resolve(this, ParameterSetName == PathSet, Path, OutputDirectory, RunId, _seen);
        foreach (RunSet set in sets)
        {
            string action = string.Format(CultureInfo.InvariantCulture, "Delete {0} checkpoint file(s)", set.AllFiles().Count);
            // -Force skips the confirmation, never -WhatIf.
            if (!(Force.IsPresent && !WhatIf.IsActive(this)) && !ShouldProcess(set.RunId, action))
            {
                continue;
            }

            try
            {
                foreach (string file in set.Remove(notify: WriteWarning))
                {
                    WriteVerbose("Deleted " + file);
                }
            }
            catch (CheckpointException e)
            {
                ErrorRecords.Report(this, e);
            }
        }
    }
}
