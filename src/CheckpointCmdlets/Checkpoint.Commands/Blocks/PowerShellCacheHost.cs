using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Management.Automation;
using Checkpoint.Cache;

namespace Checkpoint.Commands.Blocks;

/// <summary>
/// The response cache's PowerShell side: keys and outputs as JSON through <see cref="PSJson"/> (the writer of
/// a sample's output), the cached block run in the runspace of the thread with ErrorActionPreference Stop, as
/// the sample's block is, and the sample as its <c>$_</c>.
/// </summary>
internal sealed class PowerShellCacheHost : ICacheHost
{
    public static readonly PowerShellCacheHost Instance = new();

    private static readonly ScriptBlock s_warn = ScriptBlock.Create("param($message) Microsoft.PowerShell.Utility\\Write-Warning -Message $message");

    // The sample of the attempt running on this thread, set by its processor: a cached block sees it as $_.
    [ThreadStatic]
    private static PSObject? t_sample;

    private PowerShellCacheHost()
    {
    }

    /// <summary>Sets the sample a cached block on this thread sees as <c>$_</c>.</summary>
    public static void SetSample(PSObject? sample) => t_sample = sample;

    public string KeyJson(object key) => PSJson.Serialize(new Collection<PSObject> { PSObject.AsPSObject(key) }) ?? "null";

    public string? Invoke(object block)
    {
        ScriptBlock script = (block is PSObject wrapped ? wrapped.BaseObject : block) as ScriptBlock
            ?? throw new ArgumentException("Cached takes a script block as its second argument: $CheckpointContext.Cached($key, { ... }).", nameof(block));
        var variables = new List<PSVariable>(2)
        {
            new("_", t_sample),
            new("ErrorActionPreference", ActionPreference.Stop),
        };
        return PSJson.Serialize(script.InvokeWithContext(null, variables));
    }

    public object? Restore(string? outputJson) => PSJson.Deserialize(outputJson);

    public void Warn(string message) => s_warn.Invoke(message);
}
