using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Text.Json;

namespace Checkpoint.Json;

/// <summary>
/// Converts between JSON and plain .NET values: string, bool, long, double, decimal, null,
/// <see cref="IDictionary"/> (an object) and <see cref="IEnumerable"/> (an array). The cmdlets turn
/// PowerShell objects into these before they reach the core.
/// </summary>
public static class PlainJson
{
    /// <summary>Writes a plain value. Dictionaries are written with their keys sorted when <paramref name="sortKeys"/> is set.</summary>
    [MethodImpl(JitOptions.Optimized)]
    public static void WriteValue(Utf8JsonWriter writer, object? value, bool sortKeys = false)
    {
        if (TryWriteScalar(writer, value))
        {
            return;
        }

        switch (value)
        {
            case IDictionary dictionary:
                writer.WriteStartObject();
                IEnumerable<DictionaryEntry> entries = Entries(dictionary);
                if (sortKeys)
                {
                    entries = entries.OrderBy(e => Convert.ToString(e.Key, CultureInfo.InvariantCulture), StringComparer.Ordinal);
                }

                foreach (DictionaryEntry entry in entries)
                {
                    writer.WritePropertyName(Convert.ToString(entry.Key, CultureInfo.InvariantCulture) ?? string.Empty);
                    WriteValue(writer, entry.Value, sortKeys);
                }

                writer.WriteEndObject();
                break;
            case IEnumerable<KeyValuePair<string, object?>> pairs:
                writer.WriteStartObject();
                foreach (KeyValuePair<string, object?> pair in sortKeys ? pairs.OrderBy(p => p.Key, StringComparer.Ordinal) : pairs)
                {
                    writer.WritePropertyName(pair.Key);
                    WriteValue(writer, pair.Value, sortKeys);
                }

                writer.WriteEndObject();
                break;
            case IEnumerable sequence:
                writer.WriteStartArray();
                foreach (object? item in sequence)
                {
                    WriteValue(writer, item, sortKeys);
                }

                writer.WriteEndArray();
                break;
            default:
                writer.WriteStringValue(Convert.ToString(value, CultureInfo.InvariantCulture));
                break;
        }
    }

    /// <summary>
    /// Writes <paramref name="value"/> when it is a scalar (null, string, char, bool, number, date, enum,
    /// Guid, Uri, TimeSpan, Version, a JSON element) and returns true; returns false for anything else.
    /// </summary>
    [MethodImpl(JitOptions.Optimized)]
    public static bool TryWriteScalar(Utf8JsonWriter writer, object? value)
    {
        switch (value)
        {
            case null:
                writer.WriteNullValue();
                return true;
            case string s:
                writer.WriteStringValue(s);
                return true;
            case char c:
                writer.WriteStringValue(c.ToString());
                return true;
            case bool b:
                writer.WriteBooleanValue(b);
                return true;
            case int or long or short or byte or sbyte or ushort or uint:
                writer.WriteNumberValue(Convert.ToInt64(value, CultureInfo.InvariantCulture));
                return true;
            case ulong ul:
                writer.WriteNumberValue(ul);
                return true;
            case float or double:
                double d = Convert.ToDouble(value, CultureInfo.InvariantCulture);
                if (double.IsNaN(d) || double.IsInfinity(d))
                {
                    // JSON has no NaN or infinity: they are kept as text.
                    writer.WriteStringValue(d.ToString("R", CultureInfo.InvariantCulture));
                }
                else
                {
                    writer.WriteNumberValue(d);
                }

                return true;
            case decimal m:
                writer.WriteNumberValue(m);
                return true;
            case System.Numerics.BigInteger big:
                writer.WriteRawValue(big.ToString(CultureInfo.InvariantCulture), skipInputValidation: true);
                return true;
            case DateTime dt:
                writer.WriteStringValue(dt);
                return true;
            case DateTimeOffset dto:
                writer.WriteStringValue(dto);
                return true;
            case Enum e:
                writer.WriteStringValue(e.ToString());
                return true;
            case Guid or Uri or TimeSpan or Version:
                writer.WriteStringValue(Convert.ToString(value, CultureInfo.InvariantCulture));
                return true;
            case JsonElement element:
                element.WriteTo(writer);
                return true;
            default:
                return false;
        }
    }

    // IDictionary's own enumerator yields DictionaryEntry; a generic dictionary's IEnumerable yields KeyValuePair.
    private static IEnumerable<DictionaryEntry> Entries(IDictionary dictionary)
    {
        IDictionaryEnumerator enumerator = dictionary.GetEnumerator();
        while (enumerator.MoveNext())
        {
            yield return enumerator.Entry;
        }
    }

    /// <summary>
    /// Turns what <see cref="ToPlain"/> made into what a PowerShell user passed in the first place: objects
    /// become hashtables whose keys ignore case, as <c>@{}</c> does, and arrays become object arrays.
    /// </summary>
    public static object? ToTables(object? plain) => plain switch
    {
        List<KeyValuePair<string, object?>> entries => entries.Aggregate(
            new Hashtable(StringComparer.OrdinalIgnoreCase),
            (table, entry) =>
            {
                table[entry.Key] = ToTables(entry.Value);
                return table;
            }),
        List<object?> items => items.Select(ToTables).ToArray(),
        _ => plain,
    };

    /// <summary>Turns a JSON element into plain values: objects become ordered dictionaries of string keys.</summary>
    public static object? ToPlain(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var map = new List<KeyValuePair<string, object?>>();
                foreach (JsonProperty property in element.EnumerateObject())
                {
                    map.Add(new KeyValuePair<string, object?>(property.Name, ToPlain(property.Value)));
                }

                return map;
            case JsonValueKind.Array:
                return element.EnumerateArray().Select(ToPlain).ToList();
            case JsonValueKind.String:
                return element.GetString();
            case JsonValueKind.Number:
                return element.TryGetInt64(out long l) ? (object)l : element.GetDouble();
            case JsonValueKind.True:
                return true;
            case JsonValueKind.False:
                return false;
            default:
                return null;
        }
    }
}
