namespace Checkpoint.Cache;

/// <summary>
/// What the cache needs of the language the blocks are written in: the JSON of a key, running a block, the
/// objects of stored output, and a warning on the block's streams. The cmdlets give PowerShell's.
/// </summary>
internal interface ICacheHost
{
    /// <summary>The JSON of <paramref name="key"/>, as a block's output is written.</summary>
    string KeyJson(object key);

    /// <summary>Runs <paramref name="block"/> and returns its output as JSON (null for none); throws when it fails.</summary>
    string? Invoke(object block);

    /// <summary>The objects of stored output, as Get-CheckpointResult gives them.</summary>
    object? Restore(string? outputJson);

    /// <summary>Writes a warning where the block's warnings go.</summary>
    void Warn(string message);
}
