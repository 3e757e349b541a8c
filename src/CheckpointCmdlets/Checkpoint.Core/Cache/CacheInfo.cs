using System;

namespace Checkpoint.Cache;

/// <summary>What Get-CheckpointCache emits for a cache directory.</summary>
public sealed class CacheInfo
{
    /// <summary>The cache directory.</summary>
    public string Directory { get; init; } = string.Empty;

    /// <summary>Entries a lookup can return: one per key, undamaged.</summary>
    public int Entries { get; init; }

    /// <summary>Entries that fail their checksum: never returned, removed by Clear-CheckpointCache.</summary>
    public int DamagedEntries { get; init; }

    /// <summary>Segment files, one or more per process that wrote to the cache.</summary>
    public int Segments { get; init; }

    /// <summary>The size of the segment files, in bytes.</summary>
    public long SizeBytes { get; init; }

    /// <summary>When the oldest entry was made (UTC), or null for an empty cache.</summary>
    public DateTime? OldestEntry { get; init; }

    /// <summary>When the newest entry was made (UTC), or null for an empty cache.</summary>
    public DateTime? NewestEntry { get; init; }
}
