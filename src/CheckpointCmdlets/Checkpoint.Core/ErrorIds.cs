using System;
using System.Collections.Generic;

namespace Checkpoint;

/// <summary>
/// The stable error ids of the module, and the one table of what each is: its class and whether it ends the
/// command (the files cannot be trusted to take another write, or every later item would fail the same way)
/// or is written as an error while the command goes on. Scripts match on the ids; never rename one.
/// </summary>
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

    /// <summary>A run id or path that names no run, or an output directory that does not exist.</summary>
    public const string RunNotFound = nameof(RunNotFound);

    /// <summary>A -Path that is not a checkpoint's .jsonl file.</summary>
    public const string NotACheckpointFile = nameof(NotACheckpointFile);

    /// <summary>A -Shard value that is not k/n.</summary>
    public const string InvalidShard = nameof(InvalidShard);

    /// <summary>-Shard auto found no scheduler's array task variables to take the shard from.</summary>
    public const string ShardAutoFailed = nameof(ShardAutoFailed);

    /// <summary>A -Pricing or -PricingFile that cannot be read.</summary>
    public const string InvalidPricing = nameof(InvalidPricing);

    /// <summary>An -ImportModule entry that names no module or file.</summary>
    public const string ImportModuleNotFound = nameof(ImportModuleNotFound);

    /// <summary>An -ImportModule module that fails to import into a worker runspace.</summary>
    public const string ImportModuleFailed = nameof(ImportModuleFailed);

    /// <summary>A $using: variable that the caller's session has not set.</summary>
    public const string UsingVariableNotSet = nameof(UsingVariableNotSet);

    /// <summary>
    /// The -Process block a state file keeps is not signed with the user's own key (another user's key, no
    /// signature, changed since, or the key file missing or open to others): a resume does not run it.
    /// </summary>
    public const string StoredProcessUntrusted = nameof(StoredProcessUntrusted);

    /// <summary>A -CacheDirectory that is a file or cannot be created, or given with -NoCache.</summary>
    public const string CacheDirectoryInvalid = nameof(CacheDirectoryInvalid);

    /// <summary>Get-CheckpointCache or Clear-CheckpointCache named a cache directory that does not exist.</summary>
    public const string CacheNotFound = nameof(CacheNotFound);

    private static readonly Dictionary<string, (ErrorClass Class, bool EndsCommand)> s_table = new(StringComparer.Ordinal)
    {
        [RunLocked] = (ErrorClass.ResourceBusy, EndsCommand: false),
        [NewerFormatVersion] = (ErrorClass.InvalidData, EndsCommand: false),
        [CheckpointWriteFailed] = (ErrorClass.WriteError, EndsCommand: true),
        [DatasetNotFound] = (ErrorClass.ObjectNotFound, EndsCommand: false),
        [DatasetUnreadable] = (ErrorClass.ReadError, EndsCommand: false),
        [DatasetEmpty] = (ErrorClass.InvalidData, EndsCommand: false),
        [DatasetFormatUnknown] = (ErrorClass.InvalidArgument, EndsCommand: false),
        [MalformedCsv] = (ErrorClass.InvalidData, EndsCommand: false),
        [MalformedJson] = (ErrorClass.InvalidData, EndsCommand: false),
        [DuplicateSampleId] = (ErrorClass.InvalidData, EndsCommand: false),
        [IdColumnNotFound] = (ErrorClass.InvalidArgument, EndsCommand: false),
        [EmptySampleId] = (ErrorClass.InvalidData, EndsCommand: false),
        [StateRebuilt] = (ErrorClass.NotSpecified, EndsCommand: false),
        [ApiOutage] = (ErrorClass.ConnectionError, EndsCommand: true),
        [OutputDirectoryUnwritable] = (ErrorClass.PermissionDenied, EndsCommand: true),
        [RunOfOtherDataset] = (ErrorClass.InvalidOperation, EndsCommand: false),
        [LeaseLost] = (ErrorClass.ResourceUnavailable, EndsCommand: true),
        [CannotResume] = (ErrorClass.InvalidData, EndsCommand: false),
        [StateChangedOutside] = (ErrorClass.SecurityError, EndsCommand: false),
        [InvalidLeaseSeconds] = (ErrorClass.InvalidArgument, EndsCommand: true),
        [RunNotFound] = (ErrorClass.ObjectNotFound, EndsCommand: false),
        [NotACheckpointFile] = (ErrorClass.InvalidArgument, EndsCommand: false),
        [InvalidShard] = (ErrorClass.InvalidArgument, EndsCommand: true),
        [ShardAutoFailed] = (ErrorClass.InvalidArgument, EndsCommand: true),
        [InvalidPricing] = (ErrorClass.InvalidArgument, EndsCommand: true),
        [ImportModuleNotFound] = (ErrorClass.ObjectNotFound, EndsCommand: false),
        [ImportModuleFailed] = (ErrorClass.InvalidOperation, EndsCommand: false),
        [UsingVariableNotSet] = (ErrorClass.InvalidArgument, EndsCommand: false),
        [StoredProcessUntrusted] = (ErrorClass.SecurityError, EndsCommand: false),
        [CacheDirectoryInvalid] = (ErrorClass.InvalidArgument, EndsCommand: true),
        [CacheNotFound] = (ErrorClass.ObjectNotFound, EndsCommand: false),
    };

    /// <summary>Every error id.</summary>
    public static IEnumerable<string> All => s_table.Keys;

    /// <summary>The class of <paramref name="errorId"/>; NotSpecified for an id not in the table.</summary>
    public static ErrorClass ClassOf(string errorId) => s_table.TryGetValue(errorId, out var entry) ? entry.Class : ErrorClass.NotSpecified;

    /// <summary>
    /// True when an error of <paramref name="errorId"/> ends the command: the run's files cannot be trusted
    /// to take another write, or every later run of the command would fail the same way.
    /// </summary>
    public static bool EndsCommand(string errorId) => s_table.TryGetValue(errorId, out var entry) && entry.EndsCommand;
}
