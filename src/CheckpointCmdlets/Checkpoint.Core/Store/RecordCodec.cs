using System;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Checkpoint.IO;

namespace Checkpoint.Store;

/// <summary>
/// The one JSONL record format. A line is a JSON object whose last property is <c>"crc":"xxxxxxxx"</c>, the
/// CRC-32C of the same object written without that property, so every line stays valid JSON and any damaged
/// line is detected. The small fields come first and <c>output</c> last, so the loader can stop reading a
/// line (whose bytes the checksum already vouched for) before its output.
/// </summary>
internal static class RecordCodec
{
    /// <summary>Length of the checksum suffix <c>,"crc":"xxxxxxxx"}</c>.</summary>
    internal const int CrcSuffixLength = 18;

    private static readonly JsonWriterOptions s_writerOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Indented = false,
    };

    private static readonly byte[] s_crcPrefix = Encoding.ASCII.GetBytes(",\"crc\":\"");
    private static readonly byte[] s_closingBrace = { (byte)'}' };

    /// <summary>Writes <paramref name="record"/> as one line, newline included, into <paramref name="buffer"/>.</summary>
    [MethodImpl(JitOptions.Optimized)]
    public static void Encode(CheckpointRecord record, GrowableBuffer buffer, ref Utf8JsonWriter? writer)
    {
        if (string.IsNullOrEmpty(record.SampleId))
        {
            throw new ArgumentException("A record needs a sample id.", nameof(record));
        }

        buffer.Clear();
        if (writer is null)
        {
            writer = new Utf8JsonWriter(buffer, s_writerOptions);
        }
        else
        {
            writer.Reset(buffer);
        }

        writer.WriteStartObject();
        writer.WriteNumber("v", CheckpointRecord.CurrentFormatVersion);
        writer.WriteString("sample_id", record.SampleId);
        writer.WriteString("status", record.Status == RecordStatus.Completed ? "completed" : "failed");
        if (record.Status == RecordStatus.Failed)
        {
            writer.WriteBoolean("final", record.Final);
        }

        writer.WriteNumber("attempt", record.Attempt);
        writer.WriteString("started_at", record.StartedAt.UtcDateTime);
        writer.WriteString("completed_at", record.CompletedAt.UtcDateTime);
        writer.WriteNumber("duration_ms", Math.Round(record.DurationMs, 3));
        if (record.Shard is not null)
        {
            writer.WriteString("shard", record.Shard);
        }

        if (record.InputTokens is not null || record.OutputTokens is not null)
        {
            writer.WriteStartObject("usage");
            writer.WriteNumber("input_tokens", record.InputTokens ?? 0);
            writer.WriteNumber("output_tokens", record.OutputTokens ?? 0);
            writer.WriteEndObject();
        }

        if (record.Cost is decimal cost)
        {
            writer.WriteNumber("cost", cost);
        }

        if (record.CacheHits > 0)
        {
            writer.WriteStartObject("cache");
            writer.WriteNumber("hits", record.CacheHits);
            writer.WriteNumber("cost", record.CachedCost);
            writer.WriteEndObject();
        }

        if (record.Error is null)
        {
            writer.WriteNull("error");
        }
        else
        {
            writer.WriteStartObject("error");
            writer.WriteString("type", record.Error.Type);
            writer.WriteString("message", record.Error.Message);
            writer.WriteBoolean("transient", record.Error.Transient);
            if (record.Error.HttpStatus is int status)
            {
                writer.WriteNumber("http_status", status);
            }
            else
            {
                writer.WriteNull("http_status");
            }

            writer.WriteEndObject();
        }

        writer.WritePropertyName("output");
        if (record.OutputJson is null)
        {
            writer.WriteNullValue();
        }
        else
        {
            // Output of a block went through PSJson's writer; any other is checked here, so that no record holds
            // text that is not JSON.
            writer.WriteRawValue(record.OutputJson, skipInputValidation: record.OutputJsonChecked);
        }

        writer.WriteEndObject();
        writer.Flush();

        uint crc = Crc32C.Compute(buffer.WrittenSpan);
        buffer.Truncate(1);
        buffer.WriteAscii(",\"crc\":\"");
        buffer.WriteAscii(crc.ToString("x8", CultureInfo.InvariantCulture));
        buffer.WriteAscii("\"}\n");
    }

    /// <summary>
    /// A line without the carriage return of a CRLF ending (the file went through a Windows editor, or git with
    /// autocrlf): it holds the same record, and the CR is not part of what the checksum covers.
    /// </summary>
    public static ReadOnlySpan<byte> WithoutCarriageReturn(ReadOnlySpan<byte> line) =>
        line.Length > 0 && line[line.Length - 1] == (byte)'\r' ? line.Slice(0, line.Length - 1) : line;

    /// <summary>Checks a line's checksum. The line excludes its newline.</summary>
    public static bool HasValidChecksum(ReadOnlySpan<byte> line)
    {
        if (line.Length < CrcSuffixLength + 2 || line[0] != (byte)'{')
        {
            return false;
        }

        int suffixStart = line.Length - CrcSuffixLength;
        if (!line.Slice(suffixStart, s_crcPrefix.Length).SequenceEqual(s_crcPrefix)
            || line[line.Length - 2] != (byte)'"' || line[line.Length - 1] != (byte)'}')
        {
            return false;
        }

        if (!TryParseHex(line.Slice(suffixStart + s_crcPrefix.Length, 8), out uint stored))
        {
            return false;
        }

        uint actual = Crc32C.Append(Crc32C.Compute(line.Slice(0, suffixStart)), s_closingBrace);
        return actual == stored;
    }

    /// <summary>Reads a whole record, output included, from a line the loader has already accepted.</summary>
    public static CheckpointRecord Decode(ReadOnlySpan<byte> line)
    {
        var reader = new Utf8JsonReader(line, isFinalBlock: true, state: default);
        using JsonDocument document = JsonDocument.ParseValue(ref reader);
        JsonElement root = document.RootElement;
        RecordError? error = null;
        if (root.TryGetProperty("error", out JsonElement e) && e.ValueKind == JsonValueKind.Object)
        {
            error = new RecordError
            {
                Type = e.TryGetProperty("type", out JsonElement t) ? t.GetString() ?? "Error" : "Error",
                Message = e.TryGetProperty("message", out JsonElement m) ? m.GetString() ?? string.Empty : string.Empty,
                Transient = e.TryGetProperty("transient", out JsonElement tr) && tr.ValueKind == JsonValueKind.True,
                HttpStatus = e.TryGetProperty("http_status", out JsonElement h) && h.ValueKind == JsonValueKind.Number ? h.GetInt32() : null,
            };
        }

        string? output = root.TryGetProperty("output", out JsonElement o) && o.ValueKind != JsonValueKind.Null ? o.GetRawText() : null;
        return new CheckpointRecord
        {
            SampleId = root.GetProperty("sample_id").GetString()!,
            Status = root.GetProperty("status").ValueEquals("completed"u8) ? RecordStatus.Completed : RecordStatus.Failed,
            Final = !root.TryGetProperty("final", out JsonElement f) || f.ValueKind != JsonValueKind.False,
            Attempt = root.TryGetProperty("attempt", out JsonElement a) ? a.GetInt32() : 1,
            StartedAt = root.TryGetProperty("started_at", out JsonElement s) ? s.GetDateTimeOffset() : default,
            CompletedAt = root.TryGetProperty("completed_at", out JsonElement c) ? c.GetDateTimeOffset() : default,
            DurationMs = root.TryGetProperty("duration_ms", out JsonElement d) ? d.GetDouble() : 0,
            Shard = root.TryGetProperty("shard", out JsonElement sh) && sh.ValueKind == JsonValueKind.String ? sh.GetString() : null,
            InputTokens = root.TryGetProperty("usage", out JsonElement u) && u.ValueKind == JsonValueKind.Object && u.TryGetProperty("input_tokens", out JsonElement it) ? it.GetInt64() : null,
            OutputTokens = root.TryGetProperty("usage", out JsonElement u2) && u2.ValueKind == JsonValueKind.Object && u2.TryGetProperty("output_tokens", out JsonElement ot) ? ot.GetInt64() : null,
            Cost = root.TryGetProperty("cost", out JsonElement co) && co.ValueKind == JsonValueKind.Number ? co.GetDecimal() : null,
            CacheHits = root.TryGetProperty("cache", out JsonElement ca) && ca.ValueKind == JsonValueKind.Object && ca.TryGetProperty("hits", out JsonElement hits) && hits.ValueKind == JsonValueKind.Number ? hits.GetInt32() : 0,
            CachedCost = root.TryGetProperty("cache", out JsonElement ca2) && ca2.ValueKind == JsonValueKind.Object && ca2.TryGetProperty("cost", out JsonElement cc) && cc.ValueKind == JsonValueKind.Number ? cc.GetDecimal() : 0,
            Error = error,
            OutputJson = output,
        };
    }

    private static bool TryParseHex(ReadOnlySpan<byte> hex, out uint value)
    {
        value = 0;
        foreach (byte b in hex)
        {
            int digit = b >= '0' && b <= '9' ? b - '0'
                : b >= 'a' && b <= 'f' ? b - 'a' + 10
                : -1;
            if (digit < 0)
            {
                return false;
            }

            value = (value << 4) | (uint)digit;
        }

        return true;
    }
}
