using System;
using System.Management.Automation;

namespace Checkpoint.Commands.Internal;

/// <summary>
/// Turns errors into ErrorRecords with their stable ids, and reports them as <see cref="ErrorIds"/> says:
/// ending the command, or written while it goes on.
/// </summary>
internal static class ErrorRecords
{
    /// <summary>The ErrorRecord of a core exception, with the category its id's class names.</summary>
    public static ErrorRecord From(CheckpointException e) =>
        new(e, e.ErrorId, (ErrorCategory)Enum.Parse(typeof(ErrorCategory), ErrorIds.ClassOf(e.ErrorId).ToString()), e.Target);

    /// <summary>Reports a problem a cmdlet found itself, as <see cref="Report(Cmdlet, CheckpointException)"/> does.</summary>
    public static void Report(Cmdlet cmdlet, string errorId, string message, object? target) =>
        Report(cmdlet, new CheckpointException(errorId, message) { Target = target });

    /// <summary>Ends the command with <paramref name="e"/> when its id says so; else writes it as an error.</summary>
    public static void Report(Cmdlet cmdlet, CheckpointException e)
    {
        if (ErrorIds.EndsCommand(e.ErrorId))
        {
            cmdlet.ThrowTerminatingError(From(e));
        }

        cmdlet.WriteError(From(e));
    }
}
