using System;
using System.IO;
using System.Management.Automation;
using Checkpoint.Cache;

namespace Checkpoint.Commands.Internal;

/// <summary>
/// What Get-CheckpointCache and Clear-CheckpointCache share: which cache (an output directory's, or a
/// -CacheDirectory) and which entries (-KeyPattern, -OlderThanDays). Not a cmdlet itself.
/// </summary>
public abstract class CacheCommandBase : PSCmdlet
{
    /// <summary>The parameter set that names the cache by its runs' output directory.</summary>
    protected const string OutputDirectorySet = "OutputDirectory";

    /// <summary>The parameter set that names the cache directory itself.</summary>
    protected const string CacheDirectorySet = "CacheDirectory";

    /// <summary>Where the runs live: their cache is its cache folder.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = OutputDirectorySet)]
    [ValidateNotNullOrEmpty]
    public string OutputDirectory { get; set; } = CommandPaths.DefaultOutputDirectory;

    /// <summary>The cache directory, as given to Start-CheckpointRun -CacheDirectory.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = CacheDirectorySet)]
    [ValidateNotNullOrEmpty]
    public string CacheDirectory { get; set; } = string.Empty;

    /// <summary>Only entries whose key (canonical JSON) matches this wildcard pattern, such as *"model":"gpt-4o"*.</summary>
    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string? KeyPattern { get; set; }

    /// <summary>Only entries made more than this many days ago.</summary>
    [Parameter]
    [ValidateRange(0.0, 36500.0)]
    public double OlderThanDays { get; set; }

    /// <summary>The cache folder the parameters name, or null (with an error written) when there is none.</summary>
    protected string? ResolveDirectory()
    {
        string directory = ParameterSetName == CacheDirectorySet
            ? CommandPaths.Resolve(this, CacheDirectory)
            : Path.Combine(CommandPaths.Resolve(this, OutputDirectory), "cache");
        if (Directory.Exists(directory))
        {
            return directory;
        }

        ErrorRecords.Report(this, ErrorIds.CacheNotFound, $"No response cache at '{directory}'. Give the -OutputDirectory of the runs, or the -CacheDirectory they were started with.", directory);
        return null;
    }

    /// <summary>True when <paramref name="entry"/> is one the filters pick (every entry without filters).</summary>
    protected bool Picks(CacheEntryInfo entry)
    {
        if (KeyPattern is string pattern && !new WildcardPattern(pattern, WildcardOptions.IgnoreCase).IsMatch(entry.Key))
        {
            return false;
        }

        return !MyInvocation.BoundParameters.ContainsKey(nameof(OlderThanDays)) || entry.CreatedAt < DateTime.UtcNow.AddDays(-OlderThanDays);
    }
}
