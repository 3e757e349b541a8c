namespace Checkpoint.Store;

/// <summary>What kind of damage the loader found.</summary>
public enum LoadIssueKind
{
    /// <summary>A bad line with good lines after it: skipped, its sample counts as not done.</summary>
    BadLine,

    /// <summary>Bytes after the last good line (torn write, garbage, NUL bytes): cut off before the next append.</summary>
    DamagedTail,
}

/// <summary>One problem found while loading a JSONL file. Loading never throws on file content; it reports.</summary>
public sealed class LoadIssue
{
    internal LoadIssue(LoadIssueKind kind, string path, long lineNumber, long offset, long length, string reason)
    {
        Kind = kind;
        Path = path;
        LineNumber = lineNumber;
        Offset = offset;
        Length = length;
        Reason = reason;
    }

    /// <summary>The kind of damage.</summary>
    public LoadIssueKind Kind { get; }

    /// <summary>The file it was found in.</summary>
    public string Path { get; }

    /// <summary>The 1-based line number where the damage starts.</summary>
    public long LineNumber { get; }

    /// <summary>The byte offset where the damage starts.</summary>
    public long Offset { get; }

    /// <summary>How many bytes are affected.</summary>
    public long Length { get; }

    /// <summary>What was wrong.</summary>
    public string Reason { get; }

    /// <inheritdoc/>
    public override string ToString() => Kind == LoadIssueKind.BadLine
        ? $"{Path}: line {LineNumber} (byte {Offset}) skipped: {Reason}; its sample counts as not done."
        : $"{Path}: {Length} damaged byte(s) after the last good record (line {LineNumber}, byte {Offset}): {Reason}.";
}
