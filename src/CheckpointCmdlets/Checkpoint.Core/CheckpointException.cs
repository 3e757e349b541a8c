using System;

namespace Checkpoint;

/// <summary>
/// An error the core reports to its caller with a stable id (see <see cref="ErrorIds"/>), so that the cmdlets
/// can turn it into an ErrorRecord that scripts can match on.
/// </summary>
public class CheckpointException : Exception
{
    /// <summary>Creates the exception.</summary>
    public CheckpointException(string errorId, string message, Exception? inner = null)
        : base(message, inner)
    {
        ErrorId = errorId;
    }

    /// <summary>The stable PascalCase error id.</summary>
    public string ErrorId { get; }

    /// <summary>The file, sample or value the error is about, when there is one.</summary>
    public object? Target { get; init; }
}
