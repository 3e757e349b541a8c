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

    /// <summary>
    /// Reads what the loader needs from a line whose checksum is valid, stopping at <c>output</c>.
    /// Returns false with a reason when the line is well formed JSON but not a record.
    /// </summary>
    public static bool TryReadSummary(ReadOnlySpan<byte> line, out RecordSummary summary, out string? problem)
    {
        problem = null;
        return TryReadSummaryFast(line, out summary) || TryReadSummaryJson(line, out summary, out problem);
    }

    /// <summary>
    /// Reads the summary positionally from the exact layout <see cref="Encode"/> writes, which is what nearly
    /// every line is; returns false (and the caller falls back to the JSON reader) at the first difference.
    /// </summary>
    internal static bool TryReadSummaryFast(ReadOnlySpan<byte> line, out RecordSummary summary)
    {
        summary = default;
        int pos = 0;
        if (!Expect(line, ref pos, "{\"v\":"u8) || !ReadInt(line, ref pos, out int version)
            || !Expect(line, ref pos, ",\"sample_id\":\""u8) || !ReadPlainString(line, ref pos, out ReadOnlySpan<byte> id)
            || !Expect(line, ref pos, ",\"status\":\""u8))
        {
            return false;
        }

        RecordStatus status;
        bool final = true;
        if (Expect(line, ref pos, "completed\""u8))
        {
            status = RecordStatus.Completed;
        }
        else if (Expect(line, ref pos, "failed\",\"final\":"u8))
        {
            status = RecordStatus.Failed;
            if (Expect(line, ref pos, "false"u8))
            {
                final = false;
            }
            else if (!Expect(line, ref pos, "true"u8))
            {
                return false;
            }
        }
        else
        {
            return false;
        }

        if (!Expect(line, ref pos, ",\"attempt\":"u8) || !ReadInt(line, ref pos, out int attempt)
            || !Expect(line, ref pos, ",\"started_at\":\""u8) || !ReadPlainString(line, ref pos, out _)
            || !Expect(line, ref pos, ",\"completed_at\":\""u8) || !ReadPlainString(line, ref pos, out ReadOnlySpan<byte> completed)
            || !TryParseUtc(completed, out long ticks)
            || !Expect(line, ref pos, ",\"duration_ms\":"u8))
        {
            return false;
        }

        while (pos < line.Length && line[pos] != (byte)',')
        {
            pos++;
        }

        string? shard = null;
        if (Expect(line, ref pos, ",\"shard\":\""u8))
        {
            if (!ReadPlainString(line, ref pos, out ReadOnlySpan<byte> shardBytes))
            {
                return false;
            }

            shard = Utf8Text.Decode(shardBytes);
        }

        long input = 0, output = 0;
        decimal cost = 0;
        if (Expect(line, ref pos, ",\"usage\":{\"input_tokens\":"u8))
        {
            if (!ReadLong(line, ref pos, out input) || !Expect(line, ref pos, ",\"output_tokens\":"u8) || !ReadLong(line, ref pos, out output) || !Expect(line, ref pos, "}"u8))
            {
                return false;
            }
        }

        if (Expect(line, ref pos, ",\"cost\":"u8))
        {
            int start = pos;
            while (pos < line.Length && line[pos] != (byte)',')
            {
                pos++;
            }

            if (!decimal.TryParse(Ascii(line.Slice(start, pos - start)), NumberStyles.Float, CultureInfo.InvariantCulture, out cost))
            {
                return false;
            }
        }

        if (!Expect(line, ref pos, ",\"error\":"u8) || id.Length == 0)
        {
            return false;
        }

        summary = new RecordSummary(version, Utf8Text.Decode(id), status, final, attempt, ticks, shard, input, output, cost);
        return true;
    }

    private static bool TryReadSummaryJson(ReadOnlySpan<byte> line, out RecordSummary summary, out string? problem)
    {
        summary = default;
        problem = null;
        int version = 0;
        string? sampleId = null;
        RecordStatus? status = null;
        bool final = true;
        int attempt = 1;
        long completedAt = 0;
        string? shard = null;
        long input = 0, output = 0;
        decimal cost = 0;
        try
        {
            var reader = new Utf8JsonReader(line, isFinalBlock: true, state: default);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                problem = "not a JSON object";
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("output"u8))
                {
                    break;
                }

                if (reader.ValueTextEquals("v"u8))
                {
                    reader.Read();
                    version = reader.GetInt32();
                }
                else if (reader.ValueTextEquals("sample_id"u8))
                {
                    reader.Read();
                    sampleId = reader.GetString();
                }
                else if (reader.ValueTextEquals("status"u8))
                {
                    reader.Read();
                    status = reader.ValueTextEquals("completed"u8) ? RecordStatus.Completed
                        : reader.ValueTextEquals("failed"u8) ? RecordStatus.Failed
                        : null;
                }
                else if (reader.ValueTextEquals("final"u8))
                {
                    reader.Read();
                    final = reader.TokenType != JsonTokenType.False;
                }
                else if (reader.ValueTextEquals("attempt"u8))
                {
                    reader.Read();
                    attempt = reader.GetInt32();
                }
                else if (reader.ValueTextEquals("completed_at"u8))
                {
                    reader.Read();
                    completedAt = reader.GetDateTimeOffset().UtcTicks;
                }
                else if (reader.ValueTextEquals("shard"u8))
                {
                    reader.Read();
                    shard = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                }
                else if (reader.ValueTextEquals("cost"u8))
                {
                    reader.Read();
                    cost = reader.TokenType == JsonTokenType.Number ? reader.GetDecimal() : 0;
                }
                else if (reader.ValueTextEquals("usage"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.StartObject)
                    {
                        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                        {
                            bool isInput = reader.ValueTextEquals("input_tokens"u8);
                            bool isOutput = reader.ValueTextEquals("output_tokens"u8);
                            reader.Read();
                            if (reader.TokenType == JsonTokenType.Number)
                            {
                                input = isInput ? reader.GetInt64() : input;
                                output = isOutput ? reader.GetInt64() : output;
                            }
                            else
                            {
                                reader.Skip();
                            }
                        }
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
        }
        catch (JsonException e)
        {
            problem = "invalid JSON: " + e.Message;
            return false;
        }
        catch (InvalidOperationException e)
        {
            problem = "a field has the wrong type: " + e.Message;
            return false;
        }
        catch (FormatException e)
        {
            problem = "a field has the wrong format: " + e.Message;
            return false;
        }

        if (version < 1 || string.IsNullOrEmpty(sampleId) || status is null)
        {
            problem = "missing v, sample_id or status";
            return false;
        }

        summary = new RecordSummary(version, sampleId!, status.Value, final, attempt, completedAt, shard, input, output, cost);
        return true;
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
            Error = error,
            OutputJson = output,
        };
    }

    private static bool Expect(ReadOnlySpan<byte> line, ref int pos, ReadOnlySpan<byte> literal)
    {
        if (line.Length - pos < literal.Length || !line.Slice(pos, literal.Length).SequenceEqual(literal))
        {
            return false;
        }

        pos += literal.Length;
        return true;
    }

    private static bool ReadLong(ReadOnlySpan<byte> line, ref int pos, out long value)
    {
        value = 0;
        int start = pos;
        while (pos < line.Length && line[pos] >= (byte)'0' && line[pos] <= (byte)'9' && pos - start < 18)
        {
            value = (value * 10) + (line[pos] - '0');
            pos++;
        }

        return pos > start;
    }

    private static string Ascii(ReadOnlySpan<byte> bytes)
    {
        var chars = new char[bytes.Length];
        for (int i = 0; i < bytes.Length; i++)
        {
            chars[i] = (char)bytes[i];
        }

        return new string(chars);
    }

    private static bool ReadInt(ReadOnlySpan<byte> line, ref int pos, out int value)
    {
        value = 0;
        int start = pos;
        while (pos < line.Length && line[pos] >= (byte)'0' && line[pos] <= (byte)'9' && pos - start < 9)
        {
            value = (value * 10) + (line[pos] - '0');
            pos++;
        }

        return pos > start;
    }

    // A string without escapes, up to its closing quote (consumed). An escape means the slow path.
    private static bool ReadPlainString(ReadOnlySpan<byte> line, ref int pos, out ReadOnlySpan<byte> value)
    {
        int length = line.Slice(pos).IndexOfAny((byte)'"', (byte)'\\');
        value = default;
        if (length < 0 || line[pos + length] != (byte)'"')
        {
            return false;
        }

        value = line.Slice(pos, length);
        pos += length + 1;
        return true;
    }

    // The exact form Utf8JsonWriter gives a UTC DateTime: yyyy-MM-ddTHH:mm:ss[.f{1,7}]Z.
    private static bool TryParseUtc(ReadOnlySpan<byte> text, out long ticks)
    {
        ticks = 0;
        if (text.Length < 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' || text[16] != ':' || text[text.Length - 1] != 'Z')
        {
            return false;
        }

        if (!Digits(text, 0, 4, out int year) || !Digits(text, 5, 2, out int month) || !Digits(text, 8, 2, out int day)
            || !Digits(text, 11, 2, out int hour) || !Digits(text, 14, 2, out int minute) || !Digits(text, 17, 2, out int second))
        {
            return false;
        }

        long fraction = 0;
        int fractionDigits = text.Length - 21;
        if (text.Length > 20)
        {
            if (text[19] != '.' || fractionDigits < 1 || fractionDigits > 7 || !Digits(text, 20, fractionDigits, out int f))
            {
                return false;
            }

            fraction = f;
            for (int i = fractionDigits; i < 7; i++)
            {
                fraction *= 10;
            }
        }

        if (month < 1 || month > 12 || day < 1 || day > DateTime.DaysInMonth(year < 1 ? 1 : year, month) || hour > 23 || minute > 59 || second > 59 || year < 1)
        {
            return false;
        }

        ticks = new DateTime(year, month, day, hour, minute, second, DateTimeKind.Utc).Ticks + fraction;
        return true;
    }

    private static bool Digits(ReadOnlySpan<byte> text, int start, int count, out int value)
    {
        value = 0;
        for (int i = start; i < start + count; i++)
        {
            int d = text[i] - '0';
            if (d < 0 || d > 9)
            {
                return false;
            }

            value = (value * 10) + d;
        }

        return true;
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
