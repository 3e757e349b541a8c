namespace Checkpoint.Store;

/// <summary>Why an attempt failed, as stored in its JSONL record.</summary>
public sealed class RecordError
{
    /// <summary>The error's type, such as the full name of the exception.</summary>
    public string Type { get; init; } = "Error";

    /// <summary>The error message, with secrets masked.</summary>
    public string Message { get; init; } = string.Empty;

    /// <summary>True when the failure may pass on retry (rate limit, timeout, server error, network).</summary>
    public bool Transient { get; init; }

    /// <summary>The HTTP status code of the failed call, when there was one.</summary>
    public int? HttpStatus { get; init; }
}
