using System.Reflection;

namespace Checkpoint;

/// <summary>Facts about this build.</summary>
internal static class ThisAssembly
{
    /// <summary>The module version (from Checkpoint.psd1, through the build).</summary>
    public static readonly string Version =
        typeof(ThisAssembly).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion?.Split('+')[0]
        ?? typeof(ThisAssembly).Assembly.GetName().Version?.ToString()
        ?? "0.0.0";
}
