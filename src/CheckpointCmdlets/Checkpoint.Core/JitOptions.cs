using System.Runtime.CompilerServices;

namespace Checkpoint;

/// <summary>How the runtime compiles the methods that run once per row of a dataset or per record.</summary>
internal static class JitOptions
{
    /// <summary>
    /// MethodImplOptions.AggressiveOptimization, which netstandard2.0 cannot name: the method is compiled
    /// optimised at its first call. Without it, a method starts as quick unoptimised code and waits for the
    /// runtime's background compiler, which in a fresh pwsh is busy for seconds with PowerShell's own methods.
    /// Runtimes without tiered compilation ignore it.
    /// </summary>
    public const MethodImplOptions Optimized = (MethodImplOptions)512;
}
