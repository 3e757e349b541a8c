using System;
using System.Globalization;
using System.Text.Json;
using Checkpoint.IO;

namespace Checkpoint.Store;

/// <summary>
/// Reads the summary of a record the loader keeps in its index (id, status, attempt, time, shard, usage)
/// from a line whose checksum is valid, stopping before <c>output</c>: positionally from the exact layout
/// <see cref="RecordCodec"/> writes, which is what nearly every line is, else with a JSON reader.
/// </summary>
internal static partial class RecordSummaryReader
{
    /// <summary>
    /// Reads what the loader needs from a line whose checksum is valid, stopping at <c>output</c>.
    /// Returns false with a reason when the line is well formed JSON but not a record.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> line, out RecordSummary summary, out string? problem)
    {
        problem = null;
        return TryReadFast(line, out summary) || TryReadJson(line, out summary, out problem);
    }

    private static bool TryReadJson(ReadOnlySpan<byte> line, out RecordSummary summary, out string? problem)
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
        int hits = 0;
        decimal cached = 0;
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
                else if (reader.ValueTextEquals("cache"u8))
                {
                    reader.Read();
                    (decimal? cacheHits, decimal? cacheCost) = ReadPair(ref reader, "hits"u8, "cost"u8);
                    hits = (int)Math.Min(int.MaxValue, Whole(cacheHits));
                    cached = cacheCost ?? 0;
                }
                else if (reader.ValueTextEquals("usage"u8))
                {
                    reader.Read();
                    (decimal? inputTokens, decimal? outputTokens) = ReadPair(ref reader, "input_tokens"u8, "output_tokens"u8);
                    input = Whole(inputTokens);
                    output = Whole(outputTokens);
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

        summary = new RecordSummary(version, sampleId!, status.Value, final, attempt, completedAt, shard, input, output, cost, hits, cached);
        return true;
    }

    // A count read as a number: a fraction or a number beyond a long is a wrong format, as GetInt64 says.
    private static long Whole(decimal? value) =>
        value is not decimal number ? 0
        : number == decimal.Truncate(number) && number >= long.MinValue && number <= long.MaxValue ? (long)number
        : throw new FormatException("A count is not a whole number.");

    // The numbers of two properties of an object (usage, cache), null when absent or not numbers.
    private static (decimal? First, decimal? Second) ReadPair(ref Utf8JsonReader reader, ReadOnlySpan<byte> first, ReadOnlySpan<byte> second)
    {
        decimal? a = null, b = null;
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return (a, b);
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            bool isFirst = reader.ValueTextEquals(first);
            bool isSecond = reader.ValueTextEquals(second);
            reader.Read();
            if (reader.TokenType == JsonTokenType.Number)
            {
                a = isFirst ? reader.GetDecimal() : a;
                b = isSecond ? reader.GetDecimal() : b;
            }
            else
            {
                reader.Skip();
            }
        }

        return (a, b);
    }
}
