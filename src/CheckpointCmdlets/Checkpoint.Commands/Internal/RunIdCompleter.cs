using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using System.Management.Automation.Runspaces;
using Checkpoint.Store;

namespace Checkpoint.Commands.Internal;

/// <summary>Completes -RunId from the runs in -OutputDirectory (or ./outputs).</summary>
public sealed class RunIdCompleter : IArgumentCompleter
{
    /// <inheritdoc/>
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        string directory = fakeBoundParameters["OutputDirectory"] as string ?? CommandPaths.DefaultOutputDirectory;
        string baseDirectory = Runspace.DefaultRunspace?.SessionStateProxy?.Path?.CurrentFileSystemLocation?.ProviderPath ?? Environment.CurrentDirectory;
        string full = Path.IsPathRooted(directory) ? directory : Path.Combine(baseDirectory, directory);
        string prefix = (wordToComplete ?? string.Empty).Trim('\'', '"');
        return RunFiles.DiscoverRunIds(full)
            .Where(id => id.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            .Select(id => new CompletionResult(id, id, CompletionResultType.ParameterValue, id));
    }
}
