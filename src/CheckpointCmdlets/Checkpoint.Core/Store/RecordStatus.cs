namespace Checkpoint.Store;

/// <summary>The outcome that one JSONL record holds for one attempt at a sample.</summary>
public enum RecordStatus
{
    /// <summary>The attempt produced a result.</summary>
    Completed,

    /// <summary>The attempt failed; the record carries the error.</summary>
    Failed,
}
