namespace Checkpoint.Store;

/// <summary>What the loader found in one file.</summary>
public sealed class LoadedFile
{
    internal LoadedFile(string path, long length, long validLength, long recordCount, LoadIssue? damagedTail)
    {
        Path = path;
        Length = length;
        ValidLength = validLength;
        RecordCount = recordCount;
        DamagedTail = damagedTail;
    }

    /// <summary>The file's full path.</summary>
    public string Path { get; }

    /// <summary>The file's length when it was read.</summary>
    public long Length { get; }

    /// <summary>The length up to and including the newline of the last good record.</summary>
    public long ValidLength { get; }

    /// <summary>How many good records the file holds.</summary>
    public long RecordCount { get; }

    /// <summary>The damage after the last good record, or null when the file ends cleanly.</summary>
    public LoadIssue? DamagedTail { get; }
}
