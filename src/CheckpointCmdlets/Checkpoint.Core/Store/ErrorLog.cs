using System;
using System.Globalization;
using System.IO;
using System.Text;
using Checkpoint.IO;

namespace Checkpoint.Store;

/// <summary>
/// The human-readable <c>{base}_errors.log</c>: one block per failed attempt. The JSONL is the source of
/// truth; this log is for people, so it is appended and synced with the JSONL but never read back.
/// </summary>
internal sealed class ErrorLog : IDisposable
{
    private readonly string _path;
    private FileStream? _stream;

    public ErrorLog(string path) => _path = path;

    /// <summary>Appends one block describing <paramref name="record"/>'s failure.</summary>
    public void Append(CheckpointRecord record, string? context)
    {
        if (record.Error is null)
        {
            return;
        }

        var block = new StringBuilder();
        block.Append("=== ").Append(record.CompletedAt.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture))
            .Append("  sample ").Append(record.SampleId)
            .Append("  attempt ").Append(record.Attempt.ToString(CultureInfo.InvariantCulture));
        if (record.Shard is not null)
        {
            block.Append("  shard ").Append(record.Shard);
        }

        block.Append(" ===\n");
        block.Append("type:      ").Append(record.Error.Type).Append('\n');
        block.Append("message:   ").Append(Indent(record.Error.Message)).Append('\n');
        block.Append("transient: ").Append(
            !record.Error.Transient ? "no"
            : record.Final ? "yes, but its retries are used up (a resume tries the sample again)"
            : "yes (the sample is tried again)").Append('\n');
        if (record.Error.HttpStatus is int status)
        {
            block.Append("http:      ").Append(status.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }

        if (!string.IsNullOrEmpty(context))
        {
            block.Append("context:\n    ").Append(Indent(context!)).Append('\n');
        }

        block.Append('\n');
        byte[] bytes = Encoding.UTF8.GetBytes(block.ToString());
        _stream ??= OpenAtEnd();
        _stream.Write(bytes, 0, bytes.Length);
    }

    /// <summary>The open file's handle, or null before the first block.</summary>
    public Microsoft.Win32.SafeHandles.SafeFileHandle? Handle => _stream?.SafeFileHandle;

    /// <summary>The log's path.</summary>
    public string Path => _path;

    public void Dispose() => _stream?.Dispose();

    private static string Indent(string text) => text.Replace("\r\n", "\n").TrimEnd('\n').Replace("\n", "\n    ");

    private FileStream OpenAtEnd()
    {
        var stream = new FileStream(_path, FileMode.OpenOrCreate, FileAccess.Write, FileShare.Read | FileShare.Delete, 1, FileOptions.None);
        stream.Seek(0, SeekOrigin.End);
        return stream;
    }
}
