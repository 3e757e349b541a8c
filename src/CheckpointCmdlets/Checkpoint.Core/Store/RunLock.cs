using System;
using System.Diagnostics;
using System.IO;
using System.Text.Json;
using Checkpoint.IO;

namespace Checkpoint.Store;

/// <summary>
/// The exclusive OS lock that makes one process the only writer of a run (or shard). It is a file opened with
/// <see cref="FileShare.None"/>: a share-mode lock on Windows, an advisory <c>flock</c> on Unix. Both are
/// released by the operating system when the process dies, so a killed holder never blocks anyone. The lock
/// file is never deleted on release, because deleting it would let two processes lock two different files.
/// </summary>
public sealed class RunLock : IDisposable
{
    private readonly FileStream _stream;

    private RunLock(FileStream stream, string path)
    {
        _stream = stream;
        Path = path;
    }

    /// <summary>The lock file.</summary>
    public string Path { get; }

    /// <summary>Takes the lock at once or throws <see cref="RunLockedException"/> naming the holder.</summary>
    public static RunLock Acquire(string lockPath, string infoPath)
    {
        FileStream stream;
        try
        {
            stream = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
        }
        catch (IOException e) when (IsSharingViolation(e))
        {
            throw new RunLockedException(lockPath, ReadHolder(infoPath));
        }

        var holder = new LockHolder
        {
            ProcessId = Process.GetCurrentProcess().Id,
            Host = Environment.MachineName,
            Since = DateTimeOffset.UtcNow,
        };
        try
        {
            AtomicFile.Write(infoPath, Serialize(holder));
        }
        catch
        {
            stream.Dispose();
            throw;
        }

        return new RunLock(stream, lockPath);
    }

    /// <summary>True when a live process holds the lock now. Never takes it for longer than the check.</summary>
    public static bool IsHeld(string lockPath)
    {
        if (!File.Exists(lockPath))
        {
            return false;
        }

        try
        {
            using var probe = new FileStream(lockPath, FileMode.Open, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
            return false;
        }
        catch (IOException e) when (IsSharingViolation(e))
        {
            return true;
        }
        catch (FileNotFoundException)
        {
            return false;
        }
    }

    /// <summary>Reads who holds (or last held) the lock; null when that is not known.</summary>
    public static LockHolder? ReadHolder(string infoPath)
    {
        try
        {
            using JsonDocument document = JsonDocument.Parse(File.ReadAllBytes(infoPath));
            JsonElement root = document.RootElement;
            return new LockHolder
            {
                ProcessId = root.GetProperty("pid").GetInt32(),
                Host = root.GetProperty("host").GetString() ?? string.Empty,
                Since = root.GetProperty("since").GetDateTimeOffset(),
            };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or InvalidOperationException or System.Collections.Generic.KeyNotFoundException or FormatException)
        {
            return null;
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _stream.Dispose();

    private static byte[] Serialize(LockHolder holder)
    {
        var buffer = new GrowableBuffer(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("pid", holder.ProcessId);
            writer.WriteString("host", holder.Host);
            writer.WriteString("since", holder.Since.UtcDateTime);
            writer.WriteEndObject();
        }

        byte[] bytes = new byte[buffer.Count];
        Array.Copy(buffer.Array, bytes, buffer.Count);
        return bytes;
    }

    // A sharing violation is an IOException of its own type on no platform; on Windows its HResult is
    // ERROR_SHARING_VIOLATION (0x80070020), on Unix .NET reports EWOULDBLOCK from flock the same way.
    private static bool IsSharingViolation(IOException e) =>
        e is not FileNotFoundException and not DirectoryNotFoundException and not PathTooLongException;
}
