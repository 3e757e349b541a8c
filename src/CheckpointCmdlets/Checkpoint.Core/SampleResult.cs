using System;

namespace Checkpoint;

/// <summary>The winning record of one sample, as Get-CheckpointResult and -PassThru emit it.</summary>
public sealed class SampleResult
{
    /// <summary>The run id.</summary>
    public string RunId { get; init; } = string.Empty;

    /// <summary>The sample id.</summary>
    public string SampleId { get; init; } = string.Empty;

    /// <summary>
    /// Completed; Failed (given up on: retries used up, or a permanent error); or Pending (its last attempt
    /// failed but was not the last: the run stopped, or the API looked down, and a resume tries it again).
    /// </summary>
    public string Status { get; init; } = string.Empty;

    /// <summary>The attempt number of this record.</summary>
    public int Attempt { get; init; }

    /// <summary>The sample's result: in PowerShell, rebuilt as objects from the stored JSON.</summary>
    public object? Output { get; set; }

    /// <summary>The stored JSON of the result, as written.</summary>
    public string? OutputJson { get; init; }

    /// <summary>For a failed record: "type: message"; otherwise null.</summary>
    public string? Error { get; init; }

    /// <summary>How long the attempt took, in milliseconds.</summary>
    public double DurationMs { get; init; }

    /// <summary>When the attempt ended (UTC).</summary>
    public DateTime CompletedAt { get; init; }

    /// <summary>The shard that wrote the record, as k/n, or empty.</summary>
    public string Shard { get; init; } = string.Empty;

    /// <summary>The <see cref="Status"/> of a sample whose winning record has <paramref name="status"/>.</summary>
    public static string StatusOf(Store.RecordStatus status, bool final) =>
        status == Store.RecordStatus.Completed ? "Completed" : final ? "Failed" : "Pending";

    /// <summary>Builds the result of a record.</summary>
    public static SampleResult FromRecord(string runId, Store.CheckpointRecord record) => new()
    {
        RunId = runId,
        SampleId = record.SampleId,
        Status = StatusOf(record.Status, record.Final),
        Attempt = record.Attempt,
        OutputJson = record.OutputJson,
        Error = record.Error is null ? null : record.Error.Type + ": " + record.Error.Message,
        DurationMs = record.DurationMs,
        CompletedAt = record.CompletedAt.UtcDateTime,
        Shard = record.Shard ?? string.Empty,
    };
}
