using System;
using System.Text;
using System.Text.Json;
using Checkpoint.Store;

namespace Checkpoint.Cache;

/// <summary>
/// One stored call: its key, the block's output as JSON, and what the call used when it was paid for. On
/// disk it is a record of the run store's format whose sample id is the key's hash and whose output is
/// <c>{"key":...,"output":...}</c>.
/// </summary>
public sealed class CacheEntry
{
    /// <summary>The key's canonical JSON, secret-named values masked (see <see cref="CacheKey.Stored"/>).</summary>
    public string Key { get; init; } = "null";

    /// <summary>The block's output as JSON (null for no output), as a run's record keeps a sample's.</summary>
    public string? OutputJson { get; init; }

    /// <summary>Input tokens the call used, when known.</summary>
    public long? InputTokens { get; init; }

    /// <summary>Output tokens the call used, when known.</summary>
    public long? OutputTokens { get; init; }

    /// <summary>What the call cost when it was made, when known.</summary>
    public decimal? Cost { get; init; }

    /// <summary>When the call was made (UTC).</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>How long the call took, in milliseconds.</summary>
    public double DurationMs { get; init; }

    /// <summary>The record that stores this entry under <paramref name="hash"/>.</summary>
    internal CheckpointRecord ToRecord(string hash) => new()
    {
        SampleId = hash,
        Status = RecordStatus.Completed,
        Attempt = 1,
        StartedAt = CreatedAt,
        CompletedAt = CreatedAt,
        DurationMs = DurationMs,
        InputTokens = InputTokens,
        OutputTokens = OutputTokens,
        Cost = Cost,
        OutputJson = "{\"key\":" + Key + ",\"output\":" + (OutputJson ?? "null") + "}",
    };

    /// <summary>The entry a record of a cache segment stores, or null when it is not one.</summary>
    internal static CacheEntry? FromRecord(CheckpointRecord record)
    {
        if (record.OutputJson is null)
        {
            return null;
        }

        // A reader, not a document: a hit's cost is mostly parsing, and the record was parsed once already.
        byte[] json = Encoding.UTF8.GetBytes(record.OutputJson);
        var reader = new Utf8JsonReader(json);
        string? key = null, output = null;
        bool hasOutput = false;
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return null;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            bool isKey = reader.ValueTextEquals("key"u8);
            bool isOutput = reader.ValueTextEquals("output"u8);
            reader.Read();
            int start = (int)reader.TokenStartIndex;
            bool isNull = reader.TokenType == JsonTokenType.Null;
            reader.Skip();
            string text = Encoding.UTF8.GetString(json, start, (int)reader.BytesConsumed - start);
            key = isKey ? text : key;
            if (isOutput)
            {
                output = isNull ? null : text;
                hasOutput = true;
            }
        }

        if (key is null || !hasOutput)
        {
            return null;
        }

        return new CacheEntry
        {
            Key = key,
            OutputJson = output,
            InputTokens = record.InputTokens,
            OutputTokens = record.OutputTokens,
            Cost = record.Cost,
            CreatedAt = record.CompletedAt,
            DurationMs = record.DurationMs,
        };
    }
}
