using System;
using System.Collections;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Globalization;
using System.Management.Automation;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Checkpoint.IO;
using Checkpoint.Json;

namespace Checkpoint.Commands.Blocks;

/// <summary>
/// Converts what a scriptblock outputs into JSON at any depth (unlike ConvertTo-Json, which cuts at depth 2
/// by default), and stored JSON back into PowerShell objects. Nesting deeper than
/// <see cref="MaxDepth"/> (a reference cycle, in practice) is an error, never a silent cut.
/// </summary>
internal static class PSJson
{
    /// <summary>The deepest nesting written.</summary>
    public const int MaxDepth = 64;

    private static readonly JsonWriterOptions s_options = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = true,
    };

    [ThreadStatic]
    private static GrowableBuffer? t_buffer;

    /// <summary>The JSON of a block's output: null for none, the object for one, an array for several.</summary>
    [MethodImpl(JitOptions.Optimized)]
    public static string? Serialize(Collection<PSObject> output)
    {
        if (output.Count == 0)
        {
            return null;
        }

        t_buffer ??= new GrowableBuffer();
        t_buffer.Clear();
        using (var writer = new Utf8JsonWriter(t_buffer, s_options))
        {
            if (output.Count == 1)
            {
                WriteValue(writer, output[0], 0);
            }
            else
            {
                writer.WriteStartArray();
                foreach (PSObject item in output)
                {
                    WriteValue(writer, item, 1);
                }

                writer.WriteEndArray();
            }
        }

        return Encoding.UTF8.GetString(t_buffer.Array, 0, t_buffer.Count);
    }

    /// <summary>Rebuilds stored JSON as PowerShell objects: objects become PSCustomObjects, arrays object[].</summary>
    public static object? Deserialize(string? json)
    {
        if (json is null)
        {
            return null;
        }

        using JsonDocument document = JsonDocument.Parse(json);
        return ToObject(document.RootElement);
    }

    /// <summary>Turns a JSON element into PowerShell objects.</summary>
    public static object? ToObject(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var result = new PSObject();
                foreach (JsonProperty property in element.EnumerateObject())
                {
                    AddProperty(result, property.Name, ToObject(property.Value));
                }

                return result;
            case JsonValueKind.Array:
                var items = new List<object?>();
                foreach (JsonElement item in element.EnumerateArray())
                {
                    items.Add(ToObject(item));
                }

                return items.ToArray();
            case JsonValueKind.String:
                return element.GetString();
            case JsonValueKind.Number:
                if (element.TryGetInt64(out long l))
                {
                    return l;
                }

                return element.TryGetDecimal(out decimal m) && m.ToString(CultureInfo.InvariantCulture) == element.GetRawText() ? m : element.GetDouble();
            case JsonValueKind.True:
                return true;
            case JsonValueKind.False:
                return false;
            default:
                return null;
        }
    }

    // Loading never throws on what a file holds. A property no PowerShell object can have is left out: an
    // empty name, or a name PowerShell reserves for its own members (earlier versions stored `pstypenames`).
    // Of two properties with one name (names are case-insensitive in PowerShell) the later wins, as in most
    // JSON readers.
    private static void AddProperty(PSObject target, string name, object? value)
    {
        if (name.Length == 0 || IsReservedName(name))
        {
            return;
        }

        try
        {
            target.Properties.Add(new PSNoteProperty(name, value));
        }
        catch (ExtendedTypeSystemException) when (target.Properties[name] is PSPropertyInfo existing)
        {
            existing.Value = value;
        }
    }

    /// <summary>
    /// The names of the members PowerShell gives every object (psobject, pstypenames, psbase, psadapted,
    /// psextended): never a property of its own, and refused as the name of a new one.
    /// </summary>
    private static bool IsReservedName(string name) =>
        name.Length >= 6
        && name.StartsWith("ps", StringComparison.OrdinalIgnoreCase)
        && (name.Equals("psobject", StringComparison.OrdinalIgnoreCase)
            || name.Equals("pstypenames", StringComparison.OrdinalIgnoreCase)
            || name.Equals("psbase", StringComparison.OrdinalIgnoreCase)
            || name.Equals("psadapted", StringComparison.OrdinalIgnoreCase)
            || name.Equals("psextended", StringComparison.OrdinalIgnoreCase));

    [MethodImpl(JitOptions.Optimized)]
    private static void WriteValue(Utf8JsonWriter writer, object? value, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new InvalidOperationException($"The output nests deeper than {MaxDepth} levels (a reference cycle?). Return plain data: [pscustomobject], hashtables, arrays, strings and numbers.");
        }

        if (value is PSObject wrapped)
        {
            if (wrapped.BaseObject is PSCustomObject)
            {
                writer.WriteStartObject();
                foreach (PSPropertyInfo property in NoteProperties(wrapped))
                {
                    writer.WritePropertyName(property.Name);
                    WriteValue(writer, SafeValue(property), depth + 1);
                }

                writer.WriteEndObject();
                return;
            }

            value = wrapped.BaseObject;
        }

        if (PlainJson.TryWriteScalar(writer, value))
        {
            return;
        }

        switch (value)
        {
            case ScriptBlock block:
                writer.WriteStringValue(block.ToString());
                return;
            case IDictionary dictionary:
                writer.WriteStartObject();
                IDictionaryEnumerator entries = dictionary.GetEnumerator();
                while (entries.MoveNext())
                {
                    writer.WritePropertyName(Convert.ToString(entries.Key, CultureInfo.InvariantCulture) ?? string.Empty);
                    WriteValue(writer, entries.Value, depth + 1);
                }

                writer.WriteEndObject();
                return;
            case IEnumerable sequence:
                writer.WriteStartArray();
                foreach (object? item in sequence)
                {
                    WriteValue(writer, item, depth + 1);
                }

                writer.WriteEndArray();
                return;
            default:
                // Any other .NET object: its properties, as PowerShell sees them.
                writer.WriteStartObject();
                foreach (PSPropertyInfo property in PSObject.AsPSObject(value).Properties)
                {
                    if (!property.IsGettable)
                    {
                        continue;
                    }

                    writer.WritePropertyName(property.Name);
                    WriteValue(writer, SafeValue(property), depth + 1);
                }

                writer.WriteEndObject();
                return;
        }
    }

    // A PSCustomObject's properties are its instance members. PSObject.Properties merges them with the type
    // table's members on every enumeration, which costs more than the rest of a no-op sample; the instance
    // member collection (internal, present from Windows PowerShell 5.1 to PowerShell 7) is read directly,
    // with PSObject.Properties as the fallback where it is missing.
    private static readonly Func<PSObject, IEnumerable>? s_instanceMembers = FindInstanceMembers();

    private static IEnumerable<PSPropertyInfo> NoteProperties(PSObject value)
    {
        if (s_instanceMembers?.Invoke(value) is IEnumerable members)
        {
            foreach (object member in members)
            {
                // The collection also caches the members PowerShell adds to every object once something
                // asks for them (Out-String, Write-Host and string expansion ask for pstypenames).
                if (member is PSPropertyInfo property && !IsReservedName(property.Name))
                {
                    yield return property;
                }
            }

            yield break;
        }

        foreach (PSPropertyInfo property in value.Properties)
        {
            yield return property;
        }
    }

    private static Func<PSObject, IEnumerable>? FindInstanceMembers()
    {
        System.Reflection.PropertyInfo? property = typeof(PSObject).GetProperty("InstanceMembers", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic);
        if (property?.GetMethod is null || !typeof(IEnumerable).IsAssignableFrom(property.PropertyType))
        {
            return null;
        }

        var parameter = System.Linq.Expressions.Expression.Parameter(typeof(PSObject));
        var body = System.Linq.Expressions.Expression.Convert(System.Linq.Expressions.Expression.Property(parameter, property), typeof(IEnumerable));
        return System.Linq.Expressions.Expression.Lambda<Func<PSObject, IEnumerable>>(body, parameter).Compile();
    }

    private static object? SafeValue(PSPropertyInfo property)
    {
        try
        {
            return property.Value;
        }
        catch (GetValueException)
        {
            return null;
        }
        catch (ExtendedTypeSystemException)
        {
            return null;
        }
    }
}
