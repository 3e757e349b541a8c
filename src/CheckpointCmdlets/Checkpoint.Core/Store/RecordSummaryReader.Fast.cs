using System;
using System.Globalization;
using Checkpoint.IO;

namespace Checkpoint.Store;

/// <summary>The positional reader of the exact layout <see cref="RecordCodec"/> writes, and its byte helpers.</summary>
internal static partial class RecordSummaryReader
{
    /// <summary>
    /// Reads the summary positionally from the exact layout <see cref="RecordCodec.Encode"/> writes, which is what nearly
    /// every line is; returns false (and the caller falls back to the JSON reader) at the first difference.
    /// </summary>
    internal static bool TryReadFast(ReadOnlySpan<byte> line, out RecordSummary summary)
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

        if (Expect(line, ref pos, ",\"cost\":"u8) && !ReadDecimal(line, ref pos, (byte)',', out cost))
        {
            return false;
        }

        int hits = 0;
        decimal cached = 0;
        if (Expect(line, ref pos, ",\"cache\":{\"hits\":"u8))
        {
            if (!ReadInt(line, ref pos, out hits) || !Expect(line, ref pos, ",\"cost\":"u8) || !ReadDecimal(line, ref pos, (byte)'}', out cached) || !Expect(line, ref pos, "}"u8))
            {
                return false;
            }
        }

        if (!Expect(line, ref pos, ",\"error\":"u8) || id.Length == 0)
        {
            return false;
        }

        summary = new RecordSummary(version, Utf8Text.Decode(id), status, final, attempt, ticks, shard, input, output, cost, hits, cached);
        return true;
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

    // A JSON number up to (not including) the byte that ends it.
    private static bool ReadDecimal(ReadOnlySpan<byte> line, ref int pos, byte end, out decimal value)
    {
        int start = pos;
        while (pos < line.Length && line[pos] != end)
        {
            pos++;
        }

        return decimal.TryParse(Ascii(line.Slice(start, pos - start)), NumberStyles.Float, CultureInfo.InvariantCulture, out value);
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
}
