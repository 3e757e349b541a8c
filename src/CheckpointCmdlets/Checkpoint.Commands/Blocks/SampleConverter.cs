using System;
using System.Linq.Expressions;
using System.Management.Automation;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Checkpoint.Datasets;

namespace Checkpoint.Commands.Blocks;

/// <summary>Turns a dataset row into the object a block sees as <c>$_</c>.</summary>
internal static class SampleConverter
{
    // PowerShell 7's PSObject(int), which sizes the object's member table for its columns at once, as
    // Import-Csv does; the assemblies build against Windows PowerShell 5.1's API, which lacks it.
    private static readonly Func<int, PSObject>? s_newWithCapacity = FindCapacityConstructor();

    /// <summary>A PSCustomObject with one note property per column, in file order.</summary>
    [MethodImpl(JitOptions.Optimized)]
    public static PSObject ToPSObject(Sample sample)
    {
        var fields = sample.Fields;
        PSObject result = s_newWithCapacity is { } newWithCapacity ? newWithCapacity(fields.Count) : new PSObject();
        foreach (var field in fields)
        {
            object? value = field.Value is JsonElement element ? PSJson.ToObject(element) : field.Value;
            // preValidated: the names are a dataset's columns, so the reserved-name check can be skipped.
            result.Properties.Add(new PSNoteProperty(field.Key, value), preValidated: true);
        }

        return result;
    }

    private static Func<int, PSObject>? FindCapacityConstructor()
    {
        System.Reflection.ConstructorInfo? constructor = typeof(PSObject).GetConstructor(new[] { typeof(int) });
        if (constructor is null)
        {
            return null;
        }

        ParameterExpression capacity = Expression.Parameter(typeof(int));
        return Expression.Lambda<Func<int, PSObject>>(Expression.New(constructor, capacity), capacity).Compile();
    }
}
