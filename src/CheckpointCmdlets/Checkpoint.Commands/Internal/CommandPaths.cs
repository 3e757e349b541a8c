using System.Collections.Generic;
using System.Management.Automation;

namespace Checkpoint.Commands.Internal;

/// <summary>Resolves paths as PowerShell users mean them: relative to the current location, not the process's.</summary>
internal static class CommandPaths
{
    /// <summary>Where runs live unless -OutputDirectory says otherwise.</summary>
    public const string DefaultOutputDirectory = "outputs";

    /// <summary>A file-system path for <paramref name="path"/>, which need not exist.</summary>
    public static string Resolve(PSCmdlet cmdlet, string path) => cmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);

    /// <summary>
    /// The files <paramref name="path"/> names: its wildcard matches when it has wildcards, else itself
    /// (which need not exist: the reader reports a missing file with its own error).
    /// </summary>
    public static IEnumerable<string> ResolveDatasets(PSCmdlet cmdlet, string path)
    {
        if (!WildcardPattern.ContainsWildcardCharacters(path))
        {
            return new[] { Resolve(cmdlet, path) };
        }

        return cmdlet.SessionState.Path.GetResolvedProviderPathFromPSPath(path, out _);
    }
}
