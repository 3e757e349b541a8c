namespace Checkpoint.Datasets;

/// <summary>What a full pass over a dataset found: it is valid, this many rows, this fingerprint.</summary>
public sealed class DatasetInfo
{
    /// <summary>What an earlier full pass found, for a dataset that has not changed since.</summary>
    public static DatasetInfo FromEarlierScan(string path, int includedCount, DatasetFingerprint fingerprint) =>
        new(System.IO.Path.GetFullPath(path), fingerprint.Rows, includedCount, fingerprint, derivedIds: false);

    internal DatasetInfo(string path, int rowCount, int includedCount, DatasetFingerprint fingerprint, bool derivedIds)
    {
        Path = path;
        RowCount = rowCount;
        IncludedCount = includedCount;
        Fingerprint = fingerprint;
        DerivedIds = derivedIds;
    }

    /// <summary>The dataset file's full path.</summary>
    public string Path { get; }

    /// <summary>The number of rows.</summary>
    public int RowCount { get; }

    /// <summary>The number of rows the scan's filter accepted (all rows without a filter).</summary>
    public int IncludedCount { get; }

    /// <summary>Size, hash and row count.</summary>
    public DatasetFingerprint Fingerprint { get; }

    /// <summary>True when the ids were derived from row content because there is no id column.</summary>
    public bool DerivedIds { get; }
}
