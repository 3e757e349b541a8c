using System;

namespace Checkpoint.Cache;

/// <summary>One stored call: the block's output as JSON and what the call used when it was paid for.</summary>
public sealed class CacheEntry
{
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
}
