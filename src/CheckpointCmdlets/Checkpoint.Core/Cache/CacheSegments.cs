using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Runtime.CompilerServices;
using Checkpoint.Store;

namespace Checkpoint.Cache;

/// <summary>
/// The segment files of a cache directory as one index: each complete line whose checksum holds is indexed
/// under its key's prefix, the later line of a key winning. A line that fails its checksum is skipped and
/// reported; a last line without its newline is left for a later refresh (its writer may still be writing
/// it; a writer that died left it torn, and no other writer appends to that file). Not thread-safe: the
/// store calls it under its lock.
/// </summary>
internal sealed class CacheSegments : IDisposable
{
    /// <summary>The files every process writes: one per process, or more when a write failed.</summary>
    public const string Pattern = "segment-*.jsonl";

    private const int ChunkSize = 1 << 20;

    /// <summary>
    /// A name no other writer takes: the time, this process and a random part (process ids repeat across the
    /// machines of a cluster); the file is still created exclusively.
    /// </summary>
    public static string NewName() => string.Format(
        CultureInfo.InvariantCulture,
        "segment-{0:yyyyMMddHHmmss}-{1}-{2}.jsonl",
        DateTime.UtcNow,
        System.Diagnostics.Process.GetCurrentProcess().Id,
        Guid.NewGuid().ToString("n").Substring(0, 12));

    private readonly string _directory;
    private readonly List<Segment> _segments = new();
    private readonly Dictionary<string, int> _byPath = new(StringComparer.Ordinal);
    private readonly List<string> _warnings = new();
    private Dictionary<KeyPrefix, CacheLocation> _index = new();
    private byte[] _chunk = new byte[ChunkSize];

    public CacheSegments(string directory)
    {
        _directory = directory;
    }

    /// <summary>Entries indexed.</summary>
    public int Count => _index.Count;

    /// <summary>The warnings found since they were last taken: damaged lines, unreadable segments.</summary>
    public IReadOnlyList<string> TakeWarnings()
    {
        string[] taken = _warnings.ToArray();
        _warnings.Clear();
        return taken;
    }

    /// <summary>Reads what the segments gained since the last refresh: new files, and new lines of known ones.</summary>
    public void Refresh()
    {
        string[] paths;
        try
        {
            // No folder yet: no entry has been stored.
            if (!Directory.Exists(_directory))
            {
                return;
            }

            paths = Directory.GetFiles(_directory, Pattern);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _warnings.Add($"The response cache '{_directory}' cannot be listed ({e.Message}); calls not found in it are made again.");
            return;
        }

        if (_index.Count == 0 && _segments.Count == 0)
        {
            _index = new Dictionary<KeyPrefix, CacheLocation>(EstimateEntries(paths));
        }

        Array.Sort(paths, StringComparer.Ordinal);
        foreach (string path in paths)
        {
            if (!_byPath.TryGetValue(path, out int number))
            {
                number = _segments.Count;
                _segments.Add(new Segment(path));
                _byPath.Add(path, number);
            }

            ReadNew(number);
        }
    }

    /// <summary>Indexes a line this process wrote at <paramref name="offset"/> of <paramref name="path"/>.</summary>
    public void Indexed(KeyPrefix key, string path, long offset, int length)
    {
        if (!_byPath.TryGetValue(path, out int number))
        {
            number = _segments.Count;
            _segments.Add(new Segment(path));
            _byPath.Add(path, number);
        }

        Segment segment = _segments[number];
        if (segment.Consumed == offset)
        {
            segment.Consumed = offset + length;
        }

        _index[key] = new CacheLocation(number, offset, length);
    }

    /// <summary>The line of <paramref name="key"/>, without its newline, or null when the index has none.</summary>
    public byte[]? Read(KeyPrefix key, out string? path)
    {
        path = null;
        if (!_index.TryGetValue(key, out CacheLocation location))
        {
            return null;
        }

        Segment segment = _segments[location.Segment];
        path = segment.Path;
        try
        {
            segment.Reader ??= new FileStream(segment.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1);
            byte[] line = new byte[location.Length - 1];
            segment.Reader.Position = location.Offset;
            int read = 0;
            while (read < line.Length && segment.Reader.Read(line, read, line.Length - read) is int n and > 0)
            {
                read += n;
            }

            return read == line.Length ? line : Array.Empty<byte>();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Removed by Clear-CheckpointCache, or on a file server that went away: a miss.
            segment.Reader?.Dispose();
            segment.Reader = null;
            _index.Remove(key);
            return null;
        }
    }

    /// <summary>Forgets the entry of <paramref name="key"/> (found damaged when read).</summary>
    public void Forget(KeyPrefix key) => _index.Remove(key);

    public void Dispose()
    {
        foreach (Segment segment in _segments)
        {
            segment.Reader?.Dispose();
        }
    }

    // Lines of a segment after what was read of it, complete ones only. Compiled optimised at once: it runs
    // once per segment, so a loop over a million lines would otherwise run as unoptimised code.
    [MethodImpl(JitOptions.Optimized)]
    private void ReadNew(int number)
    {
        Segment segment = _segments[number];
        int damaged = 0;
        long firstDamaged = 0;
        try
        {
            // A miss refreshes every segment: one that did not grow costs a stat, not an open.
            var info = new FileInfo(segment.Path);
            if (!info.Exists || info.Length <= segment.Consumed)
            {
                return;
            }

            using var stream = new FileStream(segment.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan);

            stream.Position = segment.Consumed;
            int kept = 0;
            while (true)
            {
                if (kept == _chunk.Length)
                {
                    // A line longer than the buffer (a large output): the buffer grows to hold it.
                    Array.Resize(ref _chunk, _chunk.Length * 2);
                }

                int read = stream.Read(_chunk, kept, _chunk.Length - kept);
                if (read == 0)
                {
                    break;
                }

                int filled = kept + read;
                var rest = new ReadOnlySpan<byte>(_chunk, 0, filled);
                int start = 0;
                while (rest.Slice(start).IndexOf((byte)'\n') is int at and >= 0)
                {
                    ReadOnlySpan<byte> line = RecordCodec.WithoutCarriageReturn(rest.Slice(start, at));
                    long offset = segment.Consumed;
                    if (Accept(line, out KeyPrefix key))
                    {
                        _index[key] = new CacheLocation(number, offset, at + 1);
                    }
                    else if (line.Length > 0)
                    {
                        firstDamaged = damaged++ == 0 ? offset : firstDamaged;
                    }

                    segment.Consumed += at + 1;
                    start += at + 1;
                }

                kept = filled - start;
                Buffer.BlockCopy(_chunk, start, _chunk, 0, kept);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _warnings.Add($"The response cache segment '{segment.Path}' cannot be read ({e.Message}); its calls are made again.");
        }

        if (damaged > 0)
        {
            _warnings.Add(string.Format(
                CultureInfo.InvariantCulture,
                "The response cache segment '{0}' has {1} damaged {2} (the first at byte {3}), which fail their checksum: never returned, their calls are made again.",
                segment.Path,
                damaged,
                damaged == 1 ? "entry" : "entries",
                firstDamaged));
        }
    }

    // An entry line: a valid checksum, then the key hash as the record's sample id.
    [MethodImpl(JitOptions.Optimized)]
    private static bool Accept(ReadOnlySpan<byte> line, out KeyPrefix key)
    {
        key = default;
        ReadOnlySpan<byte> prefix = "{\"v\":1,\"sample_id\":\""u8;
        if (!RecordCodec.HasValidChecksum(line))
        {
            return false;
        }

        if (line.Length > prefix.Length + 64 && line.Slice(0, prefix.Length).SequenceEqual(prefix))
        {
            return KeyPrefix.TryParse(line.Slice(prefix.Length, 64), out key);
        }

        return RecordSummaryReader.TryRead(line, out RecordSummary summary, out _) && summary.SampleId.Length == 64
            && KeyPrefix.TryParse(System.Text.Encoding.ASCII.GetBytes(summary.SampleId), out key);
    }

    // Sized once from the files' lengths, so that a large cache does not rehash its index while loading.
    private static int EstimateEntries(string[] paths)
    {
        long bytes = 0;
        foreach (string path in paths)
        {
            try
            {
                bytes += new FileInfo(path).Length;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }

        return (int)Math.Min(bytes / 256, 1 << 22);
    }

    private sealed class Segment
    {
        public Segment(string path) => Path = path;

        public string Path { get; }

        /// <summary>Bytes read up to the end of the last complete line.</summary>
        public long Consumed { get; set; }

        public FileStream? Reader { get; set; }
    }
}
