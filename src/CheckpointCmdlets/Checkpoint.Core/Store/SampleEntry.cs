namespace Checkpoint.Store;

/// <summary>
/// Where the winning record of one sample is, and what it says: the latest, unless another file of the run
/// holds a completed one (see <see cref="RecordMerge"/>).
/// </summary>
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

    /// <summary>The status of the winning record.</summary>
    public RecordStatus Status { get; }

    /// <summary>For a failed winning record: true when the sample was given up on; false when it is still pending.</summary>
    public bool Final { get; }

    /// <summary>True when the winning record is a failure the run gave up on (it counts as failed, not pending).</summary>
    public bool IsFailed => Status == RecordStatus.Failed && Final;

    /// <summary>The attempt number of the winning record.</summary>
    public int Attempt { get; }

    /// <summary>When the attempt of the winning record ended, in UTC ticks.</summary>
    public long CompletedAtTicks { get; }

    /// <summary>Which of the index's files holds the winning record.</summary>
    public int FileIndex { get; }

    /// <summary>Byte offset of the winning record in its file.</summary>
    public long Offset { get; }

    /// <summary>Length of the winning record in bytes, without its newline.</summary>
    public int Length { get; }

    /// <summary>How many failed attempts the files hold for this sample.</summary>
    public int FailedAttempts { get; }

    /// <summary>This entry, counting <paramref name="failedAttempts"/> failed attempts.</summary>
    internal SampleEntry WithFailedAttempts(int failedAttempts) =>
        new(Status, Final, Attempt, CompletedAtTicks, FileIndex, Offset, Length, failedAttempts);
}
