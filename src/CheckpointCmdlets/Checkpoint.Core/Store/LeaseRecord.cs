using System;
using System.Collections.Generic;
using System.Text.Json;
using Checkpoint.IO;

namespace Checkpoint.Store;

/// <summary>
/// The content of a lease file (<c>{base}.lock.json</c>): who holds the run part, the random token that names
/// this holding, and when and how often it was renewed. A file of the previous release (pid, host and since,
/// no token) reads as released: that release never removed it and guarded the run with the OS lock alone.
/// </summary>
internal sealed class LeaseRecord
{
    public int ProcessId { get; init; }

    public string Host { get; init; } = string.Empty;

    public DateTimeOffset Since { get; init; }

    public string? Token { get; init; }

    public DateTime ProcessStart { get; init; }

    public DateTimeOffset Renewed { get; init; }

    public long Renewals { get; init; }

    /// <summary>The holder's lease timeout, so that an observer with a shorter one waits long enough.</summary>
    public double TimeoutSeconds { get; init; }

    public bool Released { get; init; }

    public LockHolder Holder => new() { ProcessId = ProcessId, Host = Host, Since = Since };

    /// <summary>The record in <paramref name="bytes"/>, or null when they are not one (empty, torn, not JSON).</summary>
    public static LeaseRecord? Parse(byte[] bytes)
    {
        if (bytes.Length == 0)
        {
            return null;
        }

        try
        {
            using JsonDocument document = JsonDocument.Parse(bytes);
            JsonElement root = document.RootElement;
            string? token = root.TryGetProperty("token", out JsonElement t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            return new LeaseRecord
            {
                ProcessId = root.GetProperty("pid").GetInt32(),
                Host = root.GetProperty("host").GetString() ?? string.Empty,
                Since = root.GetProperty("since").GetDateTimeOffset(),
                Token = token,
                ProcessStart = root.TryGetProperty("process_start", out JsonElement ps) ? ps.GetDateTime().ToUniversalTime() : DateTime.MinValue,
                Renewed = root.TryGetProperty("renewed", out JsonElement r) ? r.GetDateTimeOffset() : default,
                Renewals = root.TryGetProperty("renewals", out JsonElement n) ? n.GetInt64() : 0,
                TimeoutSeconds = root.TryGetProperty("timeout_seconds", out JsonElement ts) ? ts.GetDouble() : 0,
                Released = token is null || (root.TryGetProperty("released", out JsonElement rel) && rel.ValueKind == JsonValueKind.True),
            };
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException or FormatException)
        {
            return null;
        }
    }

    public byte[] Serialize()
    {
        var buffer = new GrowableBuffer(320);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("pid", ProcessId);
            writer.WriteString("host", Host);
            writer.WriteString("since", Since.UtcDateTime);
            writer.WriteString("token", Token);
            writer.WriteString("process_start", DateTime.SpecifyKind(ProcessStart, DateTimeKind.Utc));
            writer.WriteString("renewed", Renewed.UtcDateTime);
            writer.WriteNumber("renewals", Renewals);
            writer.WriteNumber("timeout_seconds", TimeoutSeconds);
            writer.WriteBoolean("released", Released);
            writer.WriteEndObject();
        }

        // A newline pads nothing but lets `cat` show the file whole.
        byte[] bytes = new byte[buffer.Count + 1];
        Array.Copy(buffer.Array, bytes, buffer.Count);
        bytes[buffer.Count] = (byte)'\n';
        return bytes;
    }

    public LeaseRecord With(DateTimeOffset renewed, long renewals, bool released) => new()
    {
        ProcessId = ProcessId,
        Host = Host,
        Since = Since,
        Token = Token,
        ProcessStart = ProcessStart,
        Renewed = renewed,
        Renewals = renewals,
        TimeoutSeconds = TimeoutSeconds,
        Released = released,
    };
}
