using System.Collections.Generic;
using System.Management.Automation;
using Checkpoint.Cache;
using Checkpoint.Commands.Internal;

namespace Checkpoint.Commands;

/// <summary>
/// Get-CheckpointCache: what a response cache holds, as one CacheInfo (entries, damaged entries, size, age);
/// with -Entry, one CacheEntryInfo per entry the filters pick.
/// </summary>
[Cmdlet(VerbsCommon.Get, "CheckpointCache", DefaultParameterSetName = OutputDirectorySet)]
[OutputType(typeof(CacheInfo), typeof(CacheEntryInfo))]
public sealed class GetCheckpointCacheCommand : CacheCommandBase
{
    /// <summary>Emit the entries, not the summary.</summary>
    [Parameter]
    public SwitchParameter Entry { get; set; }

    /// <inheritdoc/>
    protected override void ProcessRecord()
    {
        if (ResolveDirectory() is not string directory)
        {
            return;
        }

        (CacheInfo info, IReadOnlyList<CacheEntryInfo> entries) = CacheMaintenance.Scan(directory);
        if (!Entry.IsPresent)
        {
            WriteObject(info);
            return;
        }

        foreach (CacheEntryInfo entry in entries)
        {
            if (Picks(entry))
            {
                WriteObject(entry);
            }
        }
    }
}
