namespace Checkpoint.Datasets;

/// <summary>A dataset cannot be used: missing, unreadable, empty, malformed, or with bad ids.</summary>
public sealed class DatasetException : CheckpointException
{
    /// <summary>Creates the exception.</summary>
    public DatasetException(string errorId, string path, string message, long? rowNumber = null, System.Exception? inner = null)
        : base(errorId, message, inner)
    {
        Path = path;
        RowNumber = rowNumber;
        Target = path;
    }

    /// <summary>The dataset file.</summary>
    public string Path { get; }

    /// <summary>The row the problem is in, when there is one.</summary>
    public long? RowNumber { get; }
}
