using System;
using System.Management.Automation;
using Checkpoint.Store;

namespace Checkpoint.Commands.Internal;

/// <summary>Turns the core's errors into ErrorRecords with their stable ids and a real category.</summary>
internal static class ErrorRecords
{
    /// <summary>The error id the cmdlets use for a run id or path that names no run.</summary>
    public const string RunNotFound = nameof(RunNotFound);

    /// <summary>The error id for a -Shard value that is not k/n.</summary>
    public const string InvalidShard = nameof(InvalidShard);

    /// <summary>The error id for a -Path that is not a checkpoint's .jsonl file.</summary>
    public const string NotACheckpointFile = nameof(NotACheckpointFile);

    /// <summary>The error id for an -ImportModule entry that names no module or file.</summary>
    public const string ImportModuleNotFound = nameof(ImportModuleNotFound);

    /// <summary>The error id for an -ImportModule module that fails to import into a worker runspace.</summary>
    public const string ImportModuleFailed = nameof(ImportModuleFailed);

    /// <summary>The error id for a $using: variable that the caller's session has not set.</summary>
    public const string UsingVariableNotSet = nameof(UsingVariableNotSet);

    /// <summary>The ErrorRecord of a core exception.</summary>
    public static ErrorRecord From(CheckpointException e) => new(e, e.ErrorId, CategoryOf(e), e.Target);

    /// <summary>An ErrorRecord for a problem found by a cmdlet itself.</summary>
    public static ErrorRecord Create(string errorId, ErrorCategory category, string message, object? target) =>
        new(new CheckpointException(errorId, message), errorId, category, target);

    private static ErrorCategory CategoryOf(CheckpointException e) => e.ErrorId switch
    {
        ErrorIds.RunLocked => ErrorCategory.ResourceBusy,
        ErrorIds.DatasetNotFound => ErrorCategory.ObjectNotFound,
        ErrorIds.DatasetUnreadable => ErrorCategory.ReadError,
        ErrorIds.DatasetEmpty => ErrorCategory.InvalidData,
        ErrorIds.DatasetFormatUnknown => ErrorCategory.InvalidArgument,
        ErrorIds.MalformedCsv => ErrorCategory.InvalidData,
        ErrorIds.MalformedJson => ErrorCategory.InvalidData,
        ErrorIds.DuplicateSampleId => ErrorCategory.InvalidData,
        ErrorIds.EmptySampleId => ErrorCategory.InvalidData,
        ErrorIds.IdColumnNotFound => ErrorCategory.InvalidArgument,
        ErrorIds.NewerFormatVersion => ErrorCategory.InvalidData,
        ErrorIds.CheckpointWriteFailed => ErrorCategory.WriteError,
        ErrorIds.OutputDirectoryUnwritable => ErrorCategory.PermissionDenied,
        RunNotFound => ErrorCategory.ObjectNotFound,
        InvalidShard => ErrorCategory.InvalidArgument,
        Identity.ShardSource.ShardAutoFailed => ErrorCategory.InvalidArgument,
        ErrorIds.ApiOutage => ErrorCategory.ConnectionError,
        Costs.PricingTable.InvalidPricing => ErrorCategory.InvalidArgument,
        NotACheckpointFile => ErrorCategory.InvalidArgument,
        ErrorIds.CannotResume => ErrorCategory.InvalidData,
        ErrorIds.StateChangedOutside => ErrorCategory.SecurityError,
        ImportModuleNotFound => ErrorCategory.ObjectNotFound,
        ImportModuleFailed => ErrorCategory.InvalidOperation,
        UsingVariableNotSet => ErrorCategory.InvalidArgument,
        ErrorIds.RunOfOtherDataset => ErrorCategory.InvalidOperation,
        ErrorIds.LeaseLost => ErrorCategory.ResourceUnavailable,
        ErrorIds.InvalidLeaseSeconds => ErrorCategory.InvalidArgument,
        _ => ErrorCategory.NotSpecified,
    };
}
