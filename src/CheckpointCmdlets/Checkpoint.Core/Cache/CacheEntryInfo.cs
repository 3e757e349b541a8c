using System;

namespace Checkpoint.Cache;

/// <summary>What Get-CheckpointCache -Entry emits for each entry.</summary>
public sealed class CacheEntryInfo
{
    /// <summary>The key's hash, 64 hex digits.</summary>
    public string Hash { get; init; } = string.Empty;

    /// <summary>The key's canonical JSON, values of secret-named properties masked.</summary>
    public string Key { get; init; } = string.Empty;

    /// <summary>When the call was made (UTC).</summary>
    public DateTime CreatedAt { get; init; }

    /// <summary>Input tokens the call used, when known.</summary>
    public long? InputTokens { get; init; }

    /// <summary>Output tokens the call used, when known.</summary>
    public long? OutputTokens { get; init; }

    /// <summary>What the call cost when it was made, when known.</summary>
    public decimal? Cost { get; init; }

    /// <summary>The entry's size on disk, in bytes.</summary>
    public int SizeBytes { get; init; }

    /// <summary>The segment file that holds it.</summary>
    public string Segment { get; init; } = string.Empty;
}
