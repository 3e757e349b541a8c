using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Management.Automation;
using Checkpoint.Cache;
using Checkpoint.Commands.Internal;

namespace Checkpoint.Commands;

/// <summary>
/// Clear-CheckpointCache: removes the entries of a response cache that the filters pick (all of them without
/// filters), and every damaged entry. The runs' results are not touched; a removed call is paid again when
/// a block asks for it.
/// </summary>
[Cmdlet(VerbsCommon.Clear, "CheckpointCache", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = OutputDirectorySet)]
[OutputType(typeof(void))]
public sealed class ClearCheckpointCacheCommand : CacheCommandBase
{
    /// <summary>Remove without asking.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <inheritdoc/>
    protected override void ProcessRecord()
    {
        if (ResolveDirectory() is not string directory)
        {
            return;
        }

        (CacheInfo info, IReadOnlyList<CacheEntryInfo> entries) = CacheMaintenance.Scan(directory);
        int picked = entries.Count(Picks);
        string action = string.Format(CultureInfo.InvariantCulture, "Remove {0} of {1} cache entries ({2} damaged entries too)", picked, info.Entries, info.DamagedEntries);
        // -Force skips the confirmation, never -WhatIf.
        if (!(Force.IsPresent && !WhatIf.IsActive(this)) && !ShouldProcess(directory, action))
        {
            return;
        }

        int removed = CacheMaintenance.Remove(directory, Picks);
        WriteVerbose(string.Format(CultureInfo.InvariantCulture, "Removed {0} entries from {1}.", removed, directory));
    }
}
