using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using System.Text.Json;
using Checkpoint.Datasets;
using Checkpoint.IO;
using Checkpoint.Json;

namespace Checkpoint.Store;

/// <summary>
/// Reads and writes <see cref="RunState"/> files. The file is indented JSON whose last property is
/// <c>"checksum"</c>: the CRC-32C of every byte before the comma that precedes it, so a file changed outside
/// the module is detected. Writes are atomic (temp, fsync, rename, directory fsync).
/// </summary>
public static class StateFile
{
    private const string ChecksumProperty = "\"checksum\"";

    /// <summary>Writes the state atomically.</summary>
    public static void Write(string path, RunState state) => AtomicFile.Write(path, Serialize(state));

    /// <summary>The bytes of a state file for <paramref name="state"/>.</summary>
    public static byte[] Serialize(RunState state)
    {
        var buffer = new GrowableBuffer(2048);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            writer.WriteNumber("format_version", state.FormatVersion);
            writer.WriteString("module_version", state.ModuleVersion);
            writer.WriteString("run_id", state.RunId);
            WriteNullable(writer, "shard", state.Shard);
            writer.WriteStartObject("dataset");
            WriteNullable(writer, "path", state.DatasetPath);
            if (state.DatasetFingerprint is DatasetFingerprint fp)
            {
                writer.WriteNumber("size", fp.Size);
                writer.WriteString("sha256", fp.Sha256);
                writer.WriteNumber("rows", fp.Rows);
                writer.WriteNumber("last_write_ticks", fp.LastWriteTicks);
            }

            WriteNullable(writer, "id_column", state.IdColumn);
            writer.WriteEndObject();
            WriteNullable(writer, "model", state.Model);
            writer.WritePropertyName("config");
            if (state.ConfigJson is null)
            {
                writer.WriteNullValue();
            }
            else
            {
                writer.WriteRawValue(state.ConfigJson);
            }

            WriteNullable(writer, "config_hash", state.ConfigHash);
            writer.WriteNumber("seed", state.Seed);
            writer.WriteStartObject("counters");
            writer.WriteNumber("total_samples", state.TotalSamples);
            writer.WriteNumber("completed_samples", state.CompletedSamples);
            writer.WriteNumber("failed_samples", state.FailedSamples);
            writer.WriteNumber("error_count", state.ErrorCount);
            writer.WriteEndObject();
            writer.WriteString("status", state.Status.ToString());
            writer.WriteString("started_at", state.StartedAt.UtcDateTime);
            writer.WriteString("last_checkpoint", state.LastCheckpoint.UtcDateTime);
            writer.WritePropertyName("settings");
            PlainJson.WriteValue(writer, state.Settings, sortKeys: true);
            writer.WriteEndObject();
        }

        // Drop the closing brace and the whitespace around it; the checksum covers everything before.
        byte[] bytes = buffer.Array;
        int end = buffer.Count;
        TrimWhitespace(bytes, ref end);
        end--;
        TrimWhitespace(bytes, ref end);
        uint crc = Crc32C.Compute(new ReadOnlySpan<byte>(bytes, 0, end));
        string tail = ",\n  \"checksum\": \"" + crc.ToString("x8", CultureInfo.InvariantCulture) + "\"\n}\n";
        byte[] result = new byte[end + tail.Length];
        Array.Copy(bytes, result, end);
        Encoding.ASCII.GetBytes(tail, 0, tail.Length, result, end);
        return result;
    }

    /// <summary>
    /// Reads a state file. Never throws on content: a missing file gives <see cref="StateReadStatus.Missing"/>,
    /// unreadable content <see cref="StateReadStatus.Damaged"/>, and a file that parses but whose checksum
    /// does not match <see cref="StateReadStatus.ChangedOutside"/> (with the state it holds).
    /// </summary>
    public static StateReadResult Read(string path)
    {
        byte[] bytes;
        try
        {
            bytes = AtomicFile.Read(path);
        }
        catch (FileNotFoundException)
        {
            return new StateReadResult(StateReadStatus.Missing, null, "the state file does not exist");
        }
        catch (DirectoryNotFoundException)
        {
            return new StateReadResult(StateReadStatus.Missing, null, "the state file does not exist");
        }

        RunState state;
        string? stored;
        try
        {
            using JsonDocument document = JsonDocument.Parse(bytes);
            state = FromJson(document.RootElement);
            stored = document.RootElement.TryGetProperty("checksum", out JsonElement c) ? c.GetString() : null;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or KeyNotFoundException or ArgumentException)
        {
            return new StateReadResult(StateReadStatus.Damaged, null, "the state file is not valid: " + e.Message);
        }

        int marker = LastIndexOf(bytes, Encoding.ASCII.GetBytes(ChecksumProperty));
        int end = marker;
        if (marker > 0)
        {
            end--;
            TrimWhitespace(bytes, ref end);
            end = end > 0 && bytes[end - 1] == (byte)',' ? end - 1 : -1;
        }

        string? actual = end > 0 ? Crc32C.Compute(new ReadOnlySpan<byte>(bytes, 0, end)).ToString("x8", CultureInfo.InvariantCulture) : null;
        if (stored is null || actual != stored)
        {
            return new StateReadResult(StateReadStatus.ChangedOutside, state, "the state file's checksum does not match its content: it was changed outside the module");
        }

        return new StateReadResult(StateReadStatus.Valid, state, null);
    }

    /// <summary>The state as a reader of <see cref="Serialize"/>'s bytes sees it (numbers as read back, not as given).</summary>
    internal static RunState RoundTrip(RunState state)
    {
        using JsonDocument document = JsonDocument.Parse(Serialize(state));
        return FromJson(document.RootElement);
    }

    private static RunState FromJson(JsonElement root)
    {
        JsonElement dataset = root.GetProperty("dataset");
        JsonElement counters = root.GetProperty("counters");
        var state = new RunState
        {
            FormatVersion = root.GetProperty("format_version").GetInt32(),
            ModuleVersion = root.GetProperty("module_version").GetString() ?? string.Empty,
            RunId = root.GetProperty("run_id").GetString() ?? string.Empty,
            Shard = String(root, "shard"),
            DatasetPath = String(dataset, "path"),
            IdColumn = String(dataset, "id_column"),
            Model = String(root, "model"),
            ConfigJson = root.TryGetProperty("config", out JsonElement config) && config.ValueKind != JsonValueKind.Null ? config.GetRawText() : null,
            ConfigHash = String(root, "config_hash"),
            Seed = root.GetProperty("seed").GetInt32(),
            TotalSamples = counters.GetProperty("total_samples").GetInt32(),
            CompletedSamples = counters.GetProperty("completed_samples").GetInt32(),
            FailedSamples = counters.GetProperty("failed_samples").GetInt32(),
            ErrorCount = counters.GetProperty("error_count").GetInt32(),
            Status = (RunStatus)Enum.Parse(typeof(RunStatus), root.GetProperty("status").GetString() ?? string.Empty),
            StartedAt = root.GetProperty("started_at").GetDateTimeOffset(),
            LastCheckpoint = root.GetProperty("last_checkpoint").GetDateTimeOffset(),
        };
        if (dataset.TryGetProperty("sha256", out JsonElement sha))
        {
            state.DatasetFingerprint = new DatasetFingerprint(
                dataset.GetProperty("size").GetInt64(),
                sha.GetString() ?? string.Empty,
                dataset.GetProperty("rows").GetInt32(),
                dataset.TryGetProperty("last_write_ticks", out JsonElement ticks) ? ticks.GetInt64() : 0);
        }

        if (root.TryGetProperty("settings", out JsonElement settings) && settings.ValueKind == JsonValueKind.Object)
        {
            foreach (JsonProperty property in settings.EnumerateObject())
            {
                state.Settings[property.Name] = PlainJson.ToPlain(property.Value);
            }
        }

        return state;
    }

    private static string? String(JsonElement element, string name) =>
        element.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static void WriteNullable(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is null)
        {
            writer.WriteNull(name);
        }
        else
        {
            writer.WriteString(name, value);
        }
    }

    private static void TrimWhitespace(byte[] bytes, ref int end)
    {
        while (end > 0 && (bytes[end - 1] == (byte)' ' || bytes[end - 1] == (byte)'\n' || bytes[end - 1] == (byte)'\r' || bytes[end - 1] == (byte)'\t'))
        {
            end--;
        }
    }

    private static int LastIndexOf(byte[] haystack, byte[] needle)
    {
        for (int i = haystack.Length - needle.Length; i >= 0; i--)
        {
            if (new ReadOnlySpan<byte>(haystack, i, needle.Length).SequenceEqual(needle))
            {
                return i;
            }
        }

        return -1;
    }
}
