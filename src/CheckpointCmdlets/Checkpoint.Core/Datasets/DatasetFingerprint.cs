using System.Collections.Generic;
using System.Globalization;

namespace Checkpoint.Datasets;

/// <summary>What a dataset file was when a run used it: its size, SHA-256 and row count.</summary>
public sealed class DatasetFingerprint
{
    /// <summary>Creates a fingerprint.</summary>
    public DatasetFingerprint(long size, string sha256, int rows, long lastWriteTicks = 0)
    {
        Size = size;
        Sha256 = sha256;
        Rows = rows;
        LastWriteTicks = lastWriteTicks;
    }

    /// <summary>The file's last write time (UTC ticks) when it was fingerprinted; 0 when unknown.</summary>
    public long LastWriteTicks { get; }

    /// <summary>
    /// True when the file at <paramref name="path"/> still has this size and last write time, so a resume can
    /// trust the earlier full pass (as make does) instead of reading the whole file again.
    /// </summary>
    public bool LooksUnchanged(string path)
    {
        var info = new System.IO.FileInfo(path);
        return LastWriteTicks != 0 && info.Exists && info.Length == Size && info.LastWriteTimeUtc.Ticks == LastWriteTicks;
    }

    /// <summary>The file size in bytes.</summary>
    public long Size { get; }

    /// <summary>The SHA-256 of the file, lowercase hex.</summary>
    public string Sha256 { get; }

    /// <summary>The number of rows (samples).</summary>
    public int Rows { get; }

    /// <summary>Says what changed from <paramref name="before"/> to this one, or null when nothing did.</summary>
    public string? DescribeChangeFrom(DatasetFingerprint before)
    {
        if (before.Sha256 == Sha256)
        {
            return null;
        }

        var changes = new List<string>();
        if (before.Size != Size)
        {
            changes.Add(string.Format(CultureInfo.InvariantCulture, "size {0:N0} -> {1:N0} bytes", before.Size, Size));
        }

        if (before.Rows != Rows)
        {
            changes.Add(string.Format(CultureInfo.InvariantCulture, "rows {0:N0} -> {1:N0}", before.Rows, Rows));
        }

        changes.Add("content hash " + Short(before.Sha256) + " -> " + Short(Sha256));
        return string.Join(", ", changes);
    }

    private static string Short(string hash) => hash.Length > 12 ? hash.Substring(0, 12) : hash;
}
