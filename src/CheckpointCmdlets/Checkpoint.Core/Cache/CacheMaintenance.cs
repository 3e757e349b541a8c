using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Checkpoint.IO;
using Checkpoint.Store;

namespace Checkpoint.Cache;

/// <summary>
/// Seeing and clearing a cache directory. A clear rewrites each segment that loses entries as a new segment
/// (temporary file, fsync, rename, directory fsync) before it deletes the old one, so a reader sees every kept
/// entry at every moment. Entries a process appends to a segment while it is being cleared are lost, never damaged.
/// </summary>
public static class CacheMaintenance
{
    /// <summary>The entries of <paramref name="directory"/> (the latest of each key), its damaged entries and size.</summary>
    public static (CacheInfo Info, IReadOnlyList<CacheEntryInfo> Entries) Scan(string directory)
    {
        var latest = new Dictionary<string, CacheEntryInfo>(StringComparer.Ordinal);
        int damaged = 0;
        long size = 0;
        string[] segments = Segments(directory);
        foreach (string segment in segments)
        {
            byte[] bytes = File.ReadAllBytes(segment);
            size += bytes.Length;
            foreach ((int offset, int length) in Lines(bytes))
            {
                if (Read(bytes, offset, length, segment) is CacheEntryInfo entry)
                {
                    latest[entry.Hash] = entry;
                }
                else
                {
                    damaged++;
                }
            }
        }

        var entries = latest.Values.OrderBy(e => e.CreatedAt).ToList();
        var info = new CacheInfo
        {
            Directory = directory,
            Entries = entries.Count,
            DamagedEntries = damaged,
            Segments = segments.Length,
            SizeBytes = size,
            OldestEntry = entries.Count > 0 ? entries[0].CreatedAt : null,
            NewestEntry = entries.Count > 0 ? entries[entries.Count - 1].CreatedAt : null,
        };
        return (info, entries);
    }

    /// <summary>
    /// Removes the entries <paramref name="remove"/> picks, and every damaged one, from <paramref name="directory"/>;
    /// returns how many entries (damaged ones included) were removed.
    /// </summary>
    public static int Remove(string directory, Func<CacheEntryInfo, bool> remove)
    {
        int removed = 0;
        foreach (string segment in Segments(directory))
        {
            byte[] bytes = File.ReadAllBytes(segment);
            var kept = new List<(int Offset, int Length)>();
            int dropped = 0;
            foreach ((int offset, int length) in Lines(bytes))
            {
                if (Read(bytes, offset, length, segment) is CacheEntryInfo entry && !remove(entry))
                {
                    kept.Add((offset, length));
                }
                else
                {
                    dropped++;
                }
            }

            if (dropped == 0)
            {
                continue;
            }

            if (kept.Count > 0)
            {
                Rewrite(directory, bytes, kept);
            }

            File.Delete(segment);
            removed += dropped;
        }

        NativeFile.FsyncDirectory(directory);
        CacheStore.Forget(directory);
        return removed;
    }

    private static string[] Segments(string directory)
    {
        string[] segments = Directory.Exists(directory) ? Directory.GetFiles(directory, CacheSegments.Pattern) : Array.Empty<string>();
        Array.Sort(segments, StringComparer.Ordinal);
        return segments;
    }

    // The complete lines of a segment, newline included; a torn last line is not one.
    private static IEnumerable<(int Offset, int Length)> Lines(byte[] bytes)
    {
        int start = 0;
        while (start < bytes.Length && Array.IndexOf(bytes, (byte)'\n', start) is int end and >= 0)
        {
            yield return (start, end - start + 1);
            start = end + 1;
        }
    }

    private static CacheEntryInfo? Read(byte[] bytes, int offset, int length, string segment)
    {
        ReadOnlySpan<byte> line = RecordCodec.WithoutCarriageReturn(new ReadOnlySpan<byte>(bytes, offset, length - 1));
        if (!RecordCodec.HasValidChecksum(line))
        {
            return null;
        }

        CheckpointRecord record = RecordCodec.Decode(line);
        return CacheEntry.FromRecord(record) is CacheEntry entry
            ? new CacheEntryInfo
            {
                Hash = record.SampleId,
                Key = entry.Key,
                CreatedAt = entry.CreatedAt.UtcDateTime,
                InputTokens = entry.InputTokens,
                OutputTokens = entry.OutputTokens,
                Cost = entry.Cost,
                SizeBytes = length,
                Segment = segment,
            }
            : null;
    }

    // The kept lines as a new segment, whole before it takes a segment's name.
    private static void Rewrite(string directory, byte[] bytes, List<(int Offset, int Length)> kept)
    {
        string path = Path.Combine(directory, CacheSegments.NewName());
        string temp = path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
        {
            foreach ((int offset, int length) in kept)
            {
                stream.Write(bytes, offset, length);
            }

            stream.Flush();
            NativeFile.Fsync(stream.SafeFileHandle, temp);
        }

        NativeFile.ReplaceFile(temp, path);
    }
}
