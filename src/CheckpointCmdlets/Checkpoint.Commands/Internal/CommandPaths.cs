using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.IO;
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
    /// The files <paramref name="path"/> names: itself when it has no wildcards or is the name of a file as it
    /// stands (`data[v1].csv`, or a FullName from Get-ChildItem), else its wildcard matches. A file without
    /// wildcards need not exist: the reader reports a missing file with its own error. A pattern that matches
    /// nothing throws <see cref="ItemNotFoundException"/>.
    /// </summary>
    public static IEnumerable<string> ResolveDatasets(PSCmdlet cmdlet, string path)
    {
        string literal = Resolve(cmdlet, path);
        if (!WildcardPattern.ContainsWildcardCharacters(path) || File.Exists(literal))
        {
            return new[] { literal };
        }

        Collection<string> matches = cmdlet.SessionState.Path.GetResolvedProviderPathFromPSPath(path, out _);
        if (matches.Count == 0)
        {
            throw new ItemNotFoundException($"No dataset file matches '{path}'. Check the path; a file whose name holds [ or ] is found by its exact name.");
        }

        return matches;
    }
}
