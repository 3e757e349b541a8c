namespace Checkpoint.Runs;

/// <summary>What one attempt at a sample gave: a result as JSON, or an error.</summary>
public sealed class SampleOutcome
{
    private SampleOutcome()
    {
    }

    /// <summary>True when the attempt produced a result.</summary>
    public bool Succeeded { get; private init; }

    /// <summary>The result as JSON text; null stores JSON null.</summary>
    public string? OutputJson { get; private init; }

    /// <summary>
    /// True when <see cref="OutputJson"/> came out of a JSON writer of this project, so writing the record
    /// need not parse it again to check it.
    /// </summary>
    internal bool OutputJsonChecked { get; private init; }

    /// <summary>The error's type name.</summary>
    public string? ErrorType { get; private init; }

    /// <summary>The error message.</summary>
    public string? ErrorMessage { get; private init; }

    /// <summary>True when a retry may succeed.</summary>
    public bool Transient { get; private init; }

    /// <summary>The HTTP status of a failed call, when there was one.</summary>
    public int? HttpStatus { get; private init; }

    /// <summary>How long the server asked the caller to wait (a Retry-After header), when it did.</summary>
    public System.TimeSpan? RetryAfter { get; private init; }

    /// <summary>Where the error happened (script stack, call details), for the errors log.</summary>
    public string? Context { get; private init; }

    /// <summary>A successful attempt.</summary>
    public static SampleOutcome Success(string? outputJson) => new() { Succeeded = true, OutputJson = outputJson };

    /// <summary>A successful attempt whose JSON a JSON writer of this project wrote (see <see cref="OutputJsonChecked"/>).</summary>
    internal static SampleOutcome SuccessWithCheckedJson(string? outputJson) => new() { Succeeded = true, OutputJson = outputJson, OutputJsonChecked = true };

    /// <summary>A failed attempt.</summary>
    public static SampleOutcome Failure(string type, string message, bool transient, int? httpStatus = null, string? context = null, System.TimeSpan? retryAfter = null) => new()
    {
        RetryAfter = retryAfter,
        Succeeded = false,
        ErrorType = type,
        ErrorMessage = message,
        Transient = transient,
        HttpStatus = httpStatus,
        Context = context,
    };
}
