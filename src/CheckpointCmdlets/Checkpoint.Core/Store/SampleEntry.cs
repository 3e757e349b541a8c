namespace Checkpoint.Store;

/// <summary>Where the latest record of one sample is, and what it says.</summary>
public readonly struct SampleEntry
{
    internal SampleEntry(RecordStatus status, bool final, int attempt, long completedAtTicks, int fileIndex, long offset, int length, int failedAttempts)
    {
        Status = status;
        Final = final;
        Attempt = attempt;
        CompletedAtTicks = completedAtTicks;
        FileIndex = fileIndex;
        Offset = offset;
        Length = length;
        FailedAttempts = failedAttempts;
    }

    /// <summary>The status of the latest record.</summary>
    public RecordStatus Status { get; }

    /// <summary>For a failed latest record: true when the sample was given up on; false when it is still pending.</summary>
    public bool Final { get; }

    /// <summary>True when the latest record is a failure the run gave up on (it counts as failed, not pending).</summary>
    public bool IsFailed => Status == RecordStatus.Failed && Final;

    /// <summary>The attempt number of the latest record.</summary>
    public int Attempt { get; }

    /// <summary>When the latest record's attempt ended, in UTC ticks.</summary>
    public long CompletedAtTicks { get; }

    /// <summary>Which of the index's files holds the latest record.</summary>
    public int FileIndex { get; }

    /// <summary>Byte offset of the latest record in its file.</summary>
    public long Offset { get; }

    /// <summary>Length of the latest record in bytes, without its newline.</summary>
    public int Length { get; }

    /// <summary>How many failed attempts the files hold for this sample.</summary>
    public int FailedAttempts { get; }
}
