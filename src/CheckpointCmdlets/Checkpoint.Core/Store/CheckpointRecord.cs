using System;

namespace Checkpoint.Store;

/// <summary>
/// One line of a run's JSONL file: one attempt at one sample. One record of a sample wins (see
/// <see cref="RecordMerge"/>); the others stay in the file as history.
/// </summary>
public sealed class CheckpointRecord
{
    /// <summary>The format version this library writes and the highest it reads.</summary>
    public const int CurrentFormatVersion = 1;

    /// <summary>The sample's id, unique within its dataset.</summary>
    public string SampleId { get; init; } = string.Empty;

    /// <summary>Whether the attempt completed or failed.</summary>
    public RecordStatus Status { get; init; }

    /// <summary>
    /// For a failed record: true when the sample was given up on (retries exhausted or a permanent error), so
    /// it counts as failed; false when the attempt failed but the sample was left pending (stopped, killed
    /// or an outage while retries remained). Ignored for a completed record.
    /// </summary>
    public bool Final { get; init; } = true;

    /// <summary>The attempt number, from 1.</summary>
    public int Attempt { get; init; } = 1;

    /// <summary>When the attempt started (UTC).</summary>
    public DateTimeOffset StartedAt { get; init; }

    /// <summary>When the attempt ended (UTC).</summary>
    public DateTimeOffset CompletedAt { get; init; }

    /// <summary>How long the attempt took, in milliseconds.</summary>
    public double DurationMs { get; init; }

    /// <summary>The shard that wrote the record, as <c>k/n</c>, or null for an unsharded run.</summary>
    public string? Shard { get; init; }

    /// <summary>Input (prompt) tokens this attempt used, when known.</summary>
    public long? InputTokens { get; init; }

    /// <summary>Output (completion) tokens this attempt used, when known.</summary>
    public long? OutputTokens { get; init; }

    /// <summary>What this attempt cost, when known (set by the block, or tokens times the model's price).</summary>
    public decimal? Cost { get; init; }

    /// <summary>Calls this attempt took from the response cache instead of paying for them.</summary>
    public int CacheHits { get; init; }

    /// <summary>What this attempt's cache hits would have cost at the run's prices.</summary>
    public decimal CachedCost { get; init; }

    /// <summary>The error of a failed attempt; null for a completed one.</summary>
    public RecordError? Error { get; init; }

    /// <summary>The sample's result as JSON text (any depth); null stores JSON null.</summary>
    public string? OutputJson { get; init; }

    /// <summary>
    /// True when <see cref="OutputJson"/> came out of a JSON writer of this project (never for a record read
    /// from a file), so that encoding the record does not parse it again to check it.
    /// </summary>
    internal bool OutputJsonChecked { get; init; }
}
