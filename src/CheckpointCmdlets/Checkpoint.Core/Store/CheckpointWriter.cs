using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Checkpoint.IO;

namespace Checkpoint.Store;

/// <summary>
/// The single writer of one JSONL file. Each record is encoded whole and handed to the operating system with
/// one unbuffered write (a batch of records with one write) before Append returns, so a killed process loses
/// only what had not yet been appended. The file is opened at its end with an explicit seek rather than
/// <see cref="FileMode.Append"/> (which .NET does not implement as O_APPEND), and fsynced through
/// <see cref="NativeFile.Fsync"/>, not FileStream.Flush(true). Once a write or fsync fails, the writer
/// refuses every further call: a failed fsync cannot be retried safely.
/// </summary>
public sealed class CheckpointWriter : IDisposable
{
    private readonly object _gate = new();
    private readonly FileStream _stream;
    private readonly GrowableBuffer _buffer = new();
    private readonly GrowableBuffer _batch = new();
    private readonly byte[] _name;

    // The file this writer opened, where the platform can tell; see VerifyUnchanged.
    private readonly FileIdentity.Identity? _opened;
    private Utf8JsonWriter? _json;
    private long _length;
    private Exception? _failure;
    private bool _disposed;

    /// <summary>Opens <paramref name="path"/> for appending after its first <paramref name="validLength"/> bytes.</summary>
    internal CheckpointWriter(string path, long validLength)
    {
        Path = path;
        _name = FileIdentity.NameOf(path);
        _stream = StaleNames.OpenOrCreate(() => new FileStream(path, FileMode.OpenOrCreate, FileAccess.Write, FileShare.Read | FileShare.Delete, 1, FileOptions.None));
        if (_stream.Length != validLength)
        {
            _stream.SetLength(validLength);
        }

        _stream.Seek(validLength, SeekOrigin.Begin);
        _length = validLength;
        _opened = FileIdentity.Of(_stream.SafeFileHandle);
    }

    /// <summary>The file written.</summary>
    public string Path { get; }

    /// <summary>The file's length after the last whole record.</summary>
    public long Length
    {
        get
        {
            lock (_gate)
            {
                return _length;
            }
        }
    }

    /// <summary>
    /// Encodes <paramref name="record"/> and writes it with one write call. Thread-safe: concurrent callers
    /// are serialized, so lines never interleave. Returns the record's offset and length (newline excluded).
    /// </summary>
    [MethodImpl(JitOptions.Optimized)]
    public (long Offset, int Length) Append(CheckpointRecord record)
    {
        lock (_gate)
        {
            ThrowIfUnusable();
            RecordCodec.Encode(record, _buffer, ref _json);
            long offset = _length;
            Write(_buffer, offset);
            return (offset, _buffer.Count - 1);
        }
    }

    /// <summary>
    /// Encodes <paramref name="records"/> and writes them, in order, with one write call; <paramref name="positions"/>
    /// receives each record's offset and length (newline excluded). Thread-safe, as <see cref="Append(CheckpointRecord)"/>.
    /// </summary>
    [MethodImpl(JitOptions.Optimized)]
    public void Append(IReadOnlyList<CheckpointRecord> records, Span<(long Offset, int Length)> positions)
    {
        lock (_gate)
        {
            ThrowIfUnusable();
            long start = _length;
            _batch.Clear();
            for (int i = 0; i < records.Count; i++)
            {
                RecordCodec.Encode(records[i], _buffer, ref _json);
                positions[i] = (start + _batch.Count, _buffer.Count - 1);
                _buffer.WrittenSpan.CopyTo(_batch.GetSpan(_buffer.Count));
                _batch.Advance(_buffer.Count);
            }

            Write(_batch, start);
        }
    }

    /// <summary>
    /// Throws <see cref="ErrorIds.LeaseLost"/>, and refuses every later call, when the file at <see cref="Path"/>
    /// is no longer the one this writer opened (removed, or replaced) or its length is not the length this writer
    /// left: another process wrote to it. A vanished file is never created again. Checked where the platform
    /// can tell (<see cref="FileIdentity"/>).
    /// </summary>
    public void VerifyUnchanged()
    {
        lock (_gate)
        {
            ThrowIfUnusable();
            if (_opened is not FileIdentity.Identity opened)
            {
                return;
            }

            // One look at the path answers both: which file it names, and that file's length.
            string? problem = FileIdentity.OfName(_name) is not FileIdentity.Identity named || !named.SameFile(opened)
                ? "the file was removed or replaced"
                : named.Length != _length
                    ? $"its length is {named.Length} bytes where this process left {_length}: another process wrote to it"
                    : null;
            if (problem is null)
            {
                return;
            }

            var lost = new CheckpointException(ErrorIds.LeaseLost, $"The results file '{Path}' changed under this process: {problem}. It writes nothing more; the samples in flight stay pending. Resume the run once no other process writes it.") { Target = Path };
            _failure = lost;
            throw lost;
        }
    }

    /// <summary>
    /// Forces every record appended before the call to the storage device. Appends from other threads go on
    /// while the fsync runs (group commit): only the handle is taken under the lock.
    /// </summary>
    public void Sync()
    {
        Microsoft.Win32.SafeHandles.SafeFileHandle handle;
        lock (_gate)
        {
            ThrowIfUnusable();
            handle = _stream.SafeFileHandle;
        }

        try
        {
            NativeFile.Fsync(handle, Path);
        }
        catch (IOException e)
        {
            lock (_gate)
            {
                _failure = e;
            }

            throw new CheckpointException(ErrorIds.CheckpointWriteFailed, $"fsync of '{Path}' failed: {e.Message}. The run stops: after a failed fsync the system may have lost written data. Fix the cause and resume.", e) { Target = Path };
        }
    }

    /// <summary>Closes the file without a final fsync (the store syncs before it closes).</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _json?.Dispose();
            try
            {
                _stream.Dispose();
            }
            catch (IOException)
            {
                // The data that matters was already written and synced, or the failure was already reported.
            }
        }
    }

    // Writes the bytes of buffer at offset (the end of the file) with one write call; on failure the file is
    // cut back to offset and the writer refuses every further call.
    [MethodImpl(JitOptions.Optimized)]
    private void Write(GrowableBuffer buffer, long offset)
    {
        try
        {
            _stream.Write(buffer.Array, 0, buffer.Count);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _failure = e;
            TryCutBackTo(offset);
            throw new CheckpointException(ErrorIds.CheckpointWriteFailed, $"Writing a record to '{Path}' failed: {e.Message}. The file keeps only whole records; free the disk or fix the cause, then resume the run.", e) { Target = Path };
        }

        _length += buffer.Count;
    }

    private void ThrowIfUnusable()
    {
        if (_disposed)
        {
            throw new ObjectDisposedException(nameof(CheckpointWriter));
        }

        if (_failure is CheckpointException { ErrorId: ErrorIds.LeaseLost } lost)
        {
            throw lost;
        }

        if (_failure is not null)
        {
            throw new CheckpointException(ErrorIds.CheckpointWriteFailed, $"The writer of '{Path}' stopped after an earlier failure: {_failure.Message}", _failure) { Target = Path };
        }
    }

    private void TryCutBackTo(long length)
    {
        try
        {
            _stream.SetLength(length);
            _stream.Seek(length, SeekOrigin.Begin);
        }
        catch (IOException)
        {
            // The loader cuts a partial record off at the next open; nothing more can be done here.
        }
    }
}
