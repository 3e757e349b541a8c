using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Text.Json;
using System.Threading;
using Checkpoint.IO;
using Checkpoint.Store;

namespace Checkpoint.Cache;

/// <summary>
/// A response cache directory: append-only segment files of the run store's checksummed records (the key's
/// hash as the sample id, the call's output, usage and cost), one file per writing process, so that no
/// writer needs a lock, on a local disk or on the cluster file systems a run's files live on. Readers merge
/// every segment into one index of where each entry is; a hit reads its line again and checks its checksum,
/// so a damaged entry is a miss, never returned. One store per directory per process, shared by its runs.
/// </summary>
public sealed class CacheStore
{
    private static readonly ConcurrentDictionary<string, CacheStore> s_open = new(StringComparer.Ordinal);

    private readonly object _gate = new();
    private readonly object _writeGate = new();
    private readonly CacheSegments _segments;
    private readonly ConcurrentDictionary<string, InFlight> _inFlight = new(StringComparer.Ordinal);
    private readonly List<string> _pending = new();
    private readonly GrowableBuffer _buffer = new();
    private Utf8JsonWriter? _jsonWriter;
    private FileStream? _writer;
    private string? _writerPath;

    private CacheStore(string directory)
    {
        Directory = directory;
        _segments = new CacheSegments(directory);
    }

    /// <summary>The cache directory, a full path.</summary>
    public string Directory { get; }

    /// <summary>Entries indexed now.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _segments.Count;
            }
        }
    }

    /// <summary>
    /// The store of <paramref name="directory"/>, loaded on first use in this process. The folder is made
    /// with the first entry, so a run whose block never asks the cache leaves none. Throws
    /// <see cref="CheckpointException"/> when the path is a file or no path at all.
    /// </summary>
    public static CacheStore Open(string directory)
    {
        try
        {
            directory = Path.GetFullPath(directory);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new CheckpointException(ErrorIds.CacheDirectoryInvalid, $"The cache directory '{directory}' is not a path: {e.Message}", e) { Target = directory };
        }

        if (File.Exists(directory))
        {
            throw new CheckpointException(ErrorIds.CacheDirectoryInvalid, $"The cache directory '{directory}' is a file. Give -CacheDirectory a folder, or -NoCache.") { Target = directory };
        }

        return s_open.GetOrAdd(directory, Load);
    }

    /// <summary>A store of its own for an existing <paramref name="directory"/> (a full path), loaded now: another process's view.</summary>
    internal static CacheStore Load(string directory)
    {
        var store = new CacheStore(directory);
        store.Refresh();
        return store;
    }

    /// <summary>Forgets the store of <paramref name="directory"/>, so that the next open loads it anew (after a clear).</summary>
    public static void Forget(string directory)
    {
        if (s_open.TryRemove(Path.GetFullPath(directory), out CacheStore? store))
        {
            store.Close();
        }
    }

    /// <summary>The warnings found since they were last taken: damaged entries, unreadable segments, failed writes.</summary>
    public IReadOnlyList<string> TakeWarnings()
    {
        lock (_gate)
        {
            var taken = new List<string>(_segments.TakeWarnings());
            taken.AddRange(_pending);
            _pending.Clear();
            return taken;
        }
    }

    /// <summary>Reads what other processes added since the last look.</summary>
    public void Refresh()
    {
        lock (_gate)
        {
            _segments.Refresh();
        }
    }

    /// <summary>The entry of <paramref name="hash"/> when the store holds an undamaged one.</summary>
    public bool TryGet(string hash, out CacheEntry entry)
    {
        entry = null!;
        KeyPrefix key = KeyPrefix.Of(hash);
        byte[]? line;
        string? path;
        lock (_gate)
        {
            line = _segments.Read(key, out path);
            if (line is null)
            {
                return false;
            }

            if (!RecordCodec.HasValidChecksum(line))
            {
                _segments.Forget(key);
                _pending.Add($"A response cache entry in '{path}' fails its checksum (damaged after it was loaded): never returned, its call is made again.");
                return false;
            }
        }

        CheckpointRecord record = RecordCodec.Decode(line);
        if (!string.Equals(record.SampleId, hash, StringComparison.Ordinal) || CacheEntry.FromRecord(record) is not CacheEntry found)
        {
            return false;
        }

        entry = found;
        return true;
    }

    /// <summary>
    /// The entry of <paramref name="hash"/>, else what <paramref name="call"/> makes, stored. Of the callers
    /// asking for one key at once, one calls and the others wait for its entry; when its call throws, nothing
    /// is stored and the next waiter calls.
    /// </summary>
    public CacheEntry GetOrCall(string hash, Func<CacheEntry> call, out bool hit)
    {
        while (true)
        {
            if (TryGet(hash, out CacheEntry entry))
            {
                hit = true;
                return entry;
            }

            var mine = new InFlight();
            InFlight running = _inFlight.GetOrAdd(hash, mine);
            if (!ReferenceEquals(running, mine))
            {
                if (running.Thread == Environment.CurrentManagedThreadId)
                {
                    throw new InvalidOperationException("A cached block asked for its own key: the inner call would wait for itself.");
                }

                running.Done.Wait();
                continue;
            }

            try
            {
                Refresh();
                if (TryGet(hash, out entry))
                {
                    hit = true;
                    return entry;
                }

                hit = false;
                entry = call();
                Append(hash, entry);
                return entry;
            }
            finally
            {
                _inFlight.TryRemove(hash, out _);
                mine.Done.Set();
            }
        }
    }

    /// <summary>Appends an entry to this process's segment and indexes it. A failed write is a warning: the entry is only lost.</summary>
    public void Append(string hash, CacheEntry entry)
    {
        CheckpointRecord record = entry.ToRecord(hash);
        lock (_writeGate)
        {
            RecordCodec.Encode(record, _buffer, ref _jsonWriter);
            long offset = 0;
            try
            {
                _writer ??= NewSegment();
                offset = _writer.Length;
                _writer.Write(_buffer.Array, 0, _buffer.Count);
                _writer.Flush();
                NativeFile.Fsync(_writer.SafeFileHandle, _writerPath!);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A torn line must not run into the next entry: later entries go to a new segment.
                _writer?.Dispose();
                _writer = null;
                Warn($"A response cache entry could not be written to '{Directory}' ({e.Message}); its call will be made again next time.");
                return;
            }

            lock (_gate)
            {
                _segments.Indexed(KeyPrefix.Of(hash), _writerPath!, offset, _buffer.Count);
            }
        }
    }

    private void Warn(string message)
    {
        lock (_gate)
        {
            _pending.Add(message);
        }
    }

    // A file no other process writes, in the folder made now if this is the cache's first entry.
    private FileStream NewSegment()
    {
        System.IO.Directory.CreateDirectory(Directory);
        string path = Path.Combine(Directory, CacheSegments.NewName());
        var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read | FileShare.Delete, 1, FileOptions.None);
        NativeFile.FsyncDirectory(Directory);
        _writerPath = path;
        return stream;
    }

    private void Close()
    {
        lock (_writeGate)
        {
            _writer?.Dispose();
            _writer = null;
        }

        lock (_gate)
        {
            _segments.Dispose();
        }
    }

    /// <summary>A call in progress for a key: the thread making it, and the signal of its end.</summary>
    private sealed class InFlight
    {
        public int Thread { get; } = Environment.CurrentManagedThreadId;

        public ManualResetEventSlim Done { get; } = new(false);
    }
}
