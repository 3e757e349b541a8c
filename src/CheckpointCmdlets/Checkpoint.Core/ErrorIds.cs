namespace Checkpoint;

/// <summary>The stable error ids of the core. Scripts match on them; never rename one.</summary>
public static class ErrorIds
{
    /// <summary>Another live process holds the run's lock.</summary>
    public const string RunLocked = nameof(RunLocked);

    /// <summary>A checkpoint file has a newer format version than this module reads.</summary>
    public const string NewerFormatVersion = nameof(NewerFormatVersion);

    /// <summary>Writing or syncing a checkpoint file failed; the run cannot go on safely.</summary>
    public const string CheckpointWriteFailed = nameof(CheckpointWriteFailed);

    /// <summary>The dataset file does not exist.</summary>
    public const string DatasetNotFound = nameof(DatasetNotFound);

    /// <summary>The dataset file exists but cannot be read.</summary>
    public const string DatasetUnreadable = nameof(DatasetUnreadable);

    /// <summary>The dataset has no rows.</summary>
    public const string DatasetEmpty = nameof(DatasetEmpty);

    /// <summary>The dataset's extension is neither .csv nor .jsonl.</summary>
    public const string DatasetFormatUnknown = nameof(DatasetFormatUnknown);

    /// <summary>A CSV row cannot be parsed.</summary>
    public const string MalformedCsv = nameof(MalformedCsv);

    /// <summary>A JSONL line is not a JSON object.</summary>
    public const string MalformedJson = nameof(MalformedJson);

    /// <summary>Two rows have the same sample id.</summary>
    public const string DuplicateSampleId = nameof(DuplicateSampleId);

    /// <summary>The id column that was asked for does not exist.</summary>
    public const string IdColumnNotFound = nameof(IdColumnNotFound);

    /// <summary>A row has an empty id.</summary>
    public const string EmptySampleId = nameof(EmptySampleId);

    /// <summary>The state file is damaged or missing and was rebuilt from the JSONL.</summary>
    public const string StateRebuilt = nameof(StateRebuilt);

    /// <summary>The API stayed down longer than -MaxOutageMinutes; the run stopped with the samples pending.</summary>
    public const string ApiOutage = nameof(ApiOutage);

    /// <summary>The output directory cannot be created or written.</summary>
    public const string OutputDirectoryUnwritable = nameof(OutputDirectoryUnwritable);

    /// <summary>
    /// The run of this id was made from another dataset file of the same name with other content, or with
    /// another id column: going on would mix two datasets' samples in one run.
    /// </summary>
    public const string RunOfOtherDataset = nameof(RunOfOtherDataset);

    /// <summary>
    /// A writer found that it no longer holds its run part's lease (taken over after a pause, or the run removed
    /// under it); it wrote nothing more, and the samples in flight are pending.
    /// </summary>
    public const string LeaseLost = nameof(LeaseLost);

    /// <summary>
    /// A run's state file lacks what a resume needs (it is missing or damaged, keeps no block, or keeps a
    /// setting its parameter does not take).
    /// </summary>
    public const string CannotResume = nameof(CannotResume);

    /// <summary>A run's state file was changed outside the module, and no -Process was given anew to run.</summary>
    public const string StateChangedOutside = nameof(StateChangedOutside);

    /// <summary>CHECKPOINT_LEASE_SECONDS is not a number of seconds in range.</summary>
    public const string InvalidLeaseSeconds = nameof(InvalidLeaseSeconds);
}
