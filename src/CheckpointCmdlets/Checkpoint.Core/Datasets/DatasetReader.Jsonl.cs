using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Checkpoint.IO;

namespace Checkpoint.Datasets;

/// <summary>The JSONL half of the dataset reader: lines split as bytes, ids read from bytes or rows read as text.</summary>
public static partial class DatasetReader
{
    // A JSONL file's lines as UTF-8 bytes (as text through StreamReader for UTF-16 and UTF-32 files, and for the
    // reference read). Once the first row has named the id field, a row the caller does not need is read by
    // its id alone straight from its bytes when that id is plain (a string or a whole number); any other row,
    // and any row whose bytes the fast read finds unusual, is read as text, as before. A scan checks the
    // whole of every line; a read after a scan stops at the id.
    private static IEnumerable<Sample> ReadJsonl(Stream stream, string path, string? idColumn, Action<bool> reportDerived, Func<string, bool>? needsFields, bool fastReaders, bool scanning)
    {
        var idField = new JsonlIdField();
        long lineNumber = 0;
        TextReader? text = null;
        Utf8Lines? lines = fastReaders ? Utf8Lines.Open(stream, out text) : null;
        if (lines is not null)
        {
            while (lines.Next(out ArraySegment<byte> bytes))
            {
                lineNumber++;
                if (needsFields is not null && idField.Utf8Name is byte[] idName && PlainJsonlId(bytes, idName, wholeLine: scanning) is string id
                    && id.Trim().Length > 0 && !needsFields(id))
                {
                    yield return new Sample(id, lineNumber, Array.Empty<KeyValuePair<string, object?>>());
                }
                else if (ReadJsonlRow(Utf8Text.Decode(bytes), lineNumber, idField, path, idColumn, reportDerived, needsFields) is Sample sample)
                {
                    yield return sample;
                }
            }

            yield break;
        }

        text ??= TextOf(stream);
        string? line;
        while ((line = text.ReadLine()) is not null)
        {
            lineNumber++;
            if (ReadJsonlRow(line, lineNumber, idField, path, idColumn, reportDerived, needsFields) is Sample sample)
            {
                yield return sample;
            }
        }
    }

    /// <summary>What a JSONL read knows of the id field: nothing before the first row, then its name, or that ids are derived.</summary>
    private sealed class JsonlIdField
    {
        public int State { get; set; } // 0 unknown, 1 the field named Name, -1 derived

        public string? Name { get; set; }

        /// <summary>The name in UTF-8, for reading ids from a row's bytes.</summary>
        public byte[]? Utf8Name { get; set; }
    }

    // One JSONL line read as text: its sample, or null for a blank line.
    private static Sample? ReadJsonlRow(string line, long lineNumber, JsonlIdField idField, string path, string? idColumn, Action<bool> reportDerived, Func<string, bool>? needsFields)
    {
        if (line.Trim().Length == 0)
        {
            return null;
        }

        KeyValuePair<string, object?>[] fields = Array.Empty<KeyValuePair<string, object?>>();
        string? passedId = null;
        try
        {
            using JsonDocument document = JsonDocument.Parse(line);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new DatasetException(ErrorIds.MalformedJson, path, $"'{path}' line {lineNumber} is not a JSON object. Each line of a JSONL dataset must be one object.", lineNumber);
            }

            // A row the caller does not need is read by its id alone, as IdOf would read it.
            if (idField.State > 0 && needsFields is not null && FirstProperty(document.RootElement, idField.Name!) is JsonElement idValue)
            {
                string id = SampleIds.CheckedId(Convert.ToString(ToFieldValue(idValue), CultureInfo.InvariantCulture) ?? string.Empty, idField.Name!, path, lineNumber);
                passedId = needsFields(id) ? null : id;
            }

            if (passedId is null)
            {
                fields = document.RootElement.EnumerateObject()
                    .Select(p => new KeyValuePair<string, object?>(p.Name, ToFieldValue(p.Value)))
                    .ToArray();
            }
        }
        catch (JsonException e)
        {
            throw new DatasetException(ErrorIds.MalformedJson, path, $"'{path}' line {lineNumber} is not valid JSON: {e.Message}", lineNumber, e);
        }

        if (passedId is not null)
        {
            return new Sample(passedId, lineNumber, fields);
        }

        if (idField.State == 0)
        {
            int index = SampleIds.FindIdColumn(fields.Select(f => f.Key).ToArray(), idColumn, path);
            idField.State = index >= 0 ? 1 : -1;
            idField.Name = index >= 0 ? fields[index].Key : null;
            idField.Utf8Name = index >= 0 ? Encoding.UTF8.GetBytes(fields[index].Key) : null;
            reportDerived(idField.State < 0);
        }

        int idIndex = idField.State < 0 ? -1 : Array.FindIndex(fields, f => f.Key == idField.Name);
        if (idField.State > 0 && idIndex < 0)
        {
            throw new DatasetException(ErrorIds.EmptySampleId, path, $"'{path}' line {lineNumber} has no '{idField.Name}' field, which the first row has. Give every row an id.", lineNumber);
        }

        return new Sample(SampleIds.IdOf(fields, idIndex, path, lineNumber), lineNumber, fields);
    }

    // The id of a JSONL row read from its bytes, when the row is a JSON object whose first property named
    // `idName` is a string or a whole number that fits a long (the id the text read gives it); null for
    // anything else, which is then read as text. With `wholeLine` the rest of the line is checked too (one
    // valid object, nothing after it); without, the read stops at the id, for a file a scan has checked.
    [MethodImpl(JitOptions.Optimized)]
    private static string? PlainJsonlId(ArraySegment<byte> line, byte[] idName, bool wholeLine)
    {
        try
        {
            var reader = new Utf8JsonReader(new ReadOnlySpan<byte>(line.Array, line.Offset, line.Count), isFinalBlock: true, state: default);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            string? id = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                bool isId = id is null && reader.ValueTextEquals(idName);
                reader.Read();
                if (isId)
                {
                    id = reader.TokenType switch
                    {
                        JsonTokenType.String => reader.GetString(),
                        JsonTokenType.Number when reader.TryGetInt64(out long number) => number.ToString(CultureInfo.InvariantCulture),
                        _ => null,
                    };
                    if (id is null || !wholeLine)
                    {
                        return id;
                    }
                }
                else if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
                {
                    reader.Skip();
                }
            }

            // The object's end, and nothing after it.
            return reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == 0 && !reader.Read() ? id : null;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return null;
        }
    }

    // The value of the first property named `name` (ordinal), as Array.FindIndex finds it among the fields.
    private static JsonElement? FirstProperty(JsonElement row, string name)
    {
        foreach (JsonProperty property in row.EnumerateObject())
        {
            if (property.NameEquals(name))
            {
                return property.Value;
            }
        }

        return null;
    }

    private static object? ToFieldValue(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Number => value.TryGetInt64(out long l) ? (object)l : value.GetDouble(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Null => null,
        _ => value.Clone(),
    };
}
