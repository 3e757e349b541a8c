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

    /// <summary>The runs (wildcards matched against the runs found in the directory).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = RunIdSet)]
    [ArgumentCompleter(typeof(RunIdCompleter))]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[] RunId { get; set; } = System.Array.Empty<string>();

    /// <summary>A run's .jsonl file.</summary>
    [Parameter(Mandatory = true, ParameterSetName = PathSet)]
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
        var sets = RunSelector.Resolve(this, ParameterSetName == PathSet, Path, OutputDirectory, RunId);
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
                WriteError(ErrorRecords.From(e));
            }
        }
    }
}
