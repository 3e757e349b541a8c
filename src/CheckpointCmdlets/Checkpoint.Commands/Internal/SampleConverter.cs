using System.Management.Automation;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Checkpoint.Datasets;

namespace Checkpoint.Commands.Internal;

/// <summary>Turns a dataset row into the object a block sees as <c>$_</c>.</summary>
internal static class SampleConverter
{
    /// <summary>A PSCustomObject with one note property per column, in file order.</summary>
    [MethodImpl(JitOptions.Optimized)]
    public static PSObject ToPSObject(Sample sample)
    {
        var result = new PSObject();
        foreach (var field in sample.Fields)
        {
            object? value = field.Value is JsonElement element ? PSJson.ToObject(element) : field.Value;
            // preValidated: the names are a dataset's columns, so the reserved-name check can be skipped.
            result.Properties.Add(new PSNoteProperty(field.Key, value), preValidated: true);
        }

        return result;
    }
}
