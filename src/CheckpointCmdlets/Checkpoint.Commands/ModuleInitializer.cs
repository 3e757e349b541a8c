using System.Management.Automation;
using Checkpoint.Commands.Internal;

namespace Checkpoint.Commands;

/// <summary>
/// Runs when PowerShell imports the module: on PowerShell 7 it starts loading the module's private
/// dependencies into a context of their own (see <see cref="DependencyLoadContext"/>), so that other versions
/// of CsvHelper or Polly.Core in the session do not clash with them. On Windows PowerShell 5.1 it does nothing.
/// </summary>
public sealed class ModuleInitializer : IModuleAssemblyInitializer
{
    /// <summary>Called by PowerShell when the module is imported.</summary>
    public void OnImport() => DependencyLoadContext.Start();
}
