using System;

namespace Checkpoint.Store;

/// <summary>Who holds a run's lock, as written in its <c>.lock.json</c> file.</summary>
public sealed class LockHolder
{
    /// <summary>The holder's process id.</summary>
    public int ProcessId { get; init; }

    /// <summary>The holder's host name.</summary>
    public string Host { get; init; } = string.Empty;

    /// <summary>When the holder took the lock (UTC).</summary>
    public DateTimeOffset Since { get; init; }

    /// <inheritdoc/>
    public override string ToString() => $"process {ProcessId} on {Host} since {Since.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z";
}
