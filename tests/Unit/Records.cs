using System;
using System.Text.Json;
using Checkpoint.Store;

namespace Checkpoint.Tests;

/// <summary>Builds records for tests.</summary>
internal static class Records
{
    private static readonly DateTimeOffset s_start = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);

    public static CheckpointRecord Completed(string id, string text = "ok", int attempt = 1, TimeSpan? later = null) => new()
    {
        SampleId = id,
        Status = RecordStatus.Completed,
        Attempt = attempt,
        StartedAt = s_start + (later ?? TimeSpan.Zero),
        CompletedAt = s_start.AddMilliseconds(15 + attempt) + (later ?? TimeSpan.Zero),
        DurationMs = 15,
        OutputJson = JsonSerializer.Serialize(new { answer = text, n = 42 }),
    };

    public static CheckpointRecord Failed(string id, int attempt = 1, bool transient = true, bool final = true, TimeSpan? later = null) => new()
    {
        SampleId = id,
        Status = RecordStatus.Failed,
        Final = final,
        Attempt = attempt,
        StartedAt = s_start + (later ?? TimeSpan.Zero),
        CompletedAt = s_start.AddMilliseconds(10 + attempt) + (later ?? TimeSpan.Zero),
        DurationMs = 10,
        Error = new RecordError { Type = "System.TimeoutException", Message = "timed out", Transient = transient, HttpStatus = transient ? 503 : 400 },
    };
}
