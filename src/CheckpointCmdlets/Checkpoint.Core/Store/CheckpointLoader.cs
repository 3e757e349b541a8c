using System;
using System.Collections.Generic;
using System.IO;

namespace Checkpoint.Store;

/// <summary>
/// The one loader of JSONL checkpoint files. It never throws on file content: every line is checked against
/// its checksum, bad lines are reported with their line numbers, and the damaged tail after the last good
/// line is measured so that a writer can cut it off. Only a newer format version is refused.
/// </summary>
public static class CheckpointLoader
{
    private const int InitialBufferSize = 1 << 20;

    /// <summary>Loads one file.</summary>
    public static CheckpointIndex Load(string path) => Load(new[] { path });

    /// <summary>
    /// Loads several files of one run as one, each sample's records merged by <see cref="RecordMerge"/>: within
    /// a file the later record wins; across files a completed record wins, else the one that ended last.
    /// Missing files count as empty.
    /// </summary>
    public static CheckpointIndex Load(IReadOnlyList<string> paths) => Load(paths, expectedSamples: 0);

    /// <summary>
    /// Loads several files of one run, sizing the index for at least <paramref name="expectedSamples"/> samples:
    /// a run that will hold a million samples then never copies its dictionary into a larger one (each copy
    /// a large-object allocation).
    /// </summary>
    public static CheckpointIndex Load(IReadOnlyList<string> paths, int expectedSamples)
    {
        var samples = new Dictionary<string, SampleEntry>(Math.Max(EstimateRecords(paths), expectedSamples), StringComparer.Ordinal);
        var issues = new List<LoadIssue>();
        var files = new List<LoadedFile>(paths.Count);
        var usage = new UsageTotals();
        for (int i = 0; i < paths.Count; i++)
        {
            // Each file's records are merged in its own order before the rule across files applies: merged
            // record by record, a file's later record would replace a completed one of another file that had
            // won over that file's earlier record.
            Dictionary<string, SampleEntry> into = samples.Count == 0
                ? samples
                : new Dictionary<string, SampleEntry>(EstimateRecords(new[] { paths[i] }), StringComparer.Ordinal);
            files.Add(LoadFile(paths[i], i, into, issues, usage));
            if (!ReferenceEquals(into, samples))
            {
                foreach (KeyValuePair<string, SampleEntry> pair in into)
                {
                    samples[pair.Key] = samples.TryGetValue(pair.Key, out SampleEntry first) ? RecordMerge.AcrossFiles(first, pair.Value) : pair.Value;
                }
            }
        }

        return new CheckpointIndex(files, samples, issues, usage);
    }

    // Sizing the dictionary once saves the rehashes (and the garbage) of growing it to a million entries.
    private static int EstimateRecords(IReadOnlyList<string> paths)
    {
        long estimate = 0;
        byte[] sample = new byte[65536];
        foreach (string path in paths)
        {
            try
            {
                using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1);
                int read = stream.Read(sample, 0, sample.Length);
                int lines = 0;
                // IndexOf is vectorised; a loop over every byte would run as unoptimised code in a fresh
                // process, because the method runs once and is never recompiled.
                for (var rest = new ReadOnlySpan<byte>(sample, 0, read); rest.IndexOf((byte)'\n') is int at and >= 0; rest = rest.Slice(at + 1))
                {
                    lines++;
                }

                estimate += lines == 0 ? 1 : (long)(stream.Length / ((double)read / lines) * 1.05) + 16;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The load itself reports what is wrong with the file.
            }
        }

        return (int)Math.Min(estimate, 50_000_000);
    }

    private static LoadedFile LoadFile(string path, int fileIndex, Dictionary<string, SampleEntry> samples, List<LoadIssue> issues, UsageTotals usage)
    {
        string fullPath = Path.GetFullPath(path);
        FileStream stream;
        try
        {
            stream = new FileStream(fullPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            // Missing counts as empty, also when a shared file system's cached name outlived the file.
            return new LoadedFile(fullPath, 0, 0, 0, null);
        }

        using var owned = stream;
        byte[] buffer = new byte[(int)Math.Min(InitialBufferSize, Math.Max(4096, stream.Length + 1))];
        int filled = 0;
        long bufferOffset = 0;
        long lineNumber = 0;
        long validLength = 0;
        long recordCount = 0;
        var pendingBad = new List<(long Line, long Offset, long Length, string Reason)>();

        while (true)
        {
            int read = stream.Read(buffer, filled, buffer.Length - filled);
            if (read == 0)
            {
                break;
            }

            filled += read;
            int lineStart = 0;
            while (true)
            {
                int newline = new ReadOnlySpan<byte>(buffer, lineStart, filled - lineStart).IndexOf((byte)'\n');
                if (newline < 0)
                {
                    break;
                }

                ReadOnlySpan<byte> line = RecordCodec.WithoutCarriageReturn(new ReadOnlySpan<byte>(buffer, lineStart, newline));
                long lineOffset = bufferOffset + lineStart;
                lineNumber++;
                if (TryAccept(line, out RecordSummary summary, out string? reason))
                {
                    if (summary.Version > CheckpointRecord.CurrentFormatVersion)
                    {
                        throw new CheckpointFormatException(fullPath, summary.Version) { Target = fullPath };
                    }

                    foreach (var bad in pendingBad)
                    {
                        issues.Add(new LoadIssue(LoadIssueKind.BadLine, fullPath, bad.Line, bad.Offset, bad.Length, bad.Reason));
                    }

                    pendingBad.Clear();
                    Merge(samples, summary, fileIndex, lineOffset, line.Length);
                    usage.Add(summary.InputTokens, summary.OutputTokens, summary.Cost);
                    usage.AddCached(summary.CacheHits, summary.CachedCost);
                    recordCount++;
                    validLength = lineOffset + newline + 1;
                }
                else
                {
                    pendingBad.Add((lineNumber, lineOffset, newline + 1, reason!));
                }

                lineStart += newline + 1;
            }

            // Keep the unfinished line; grow the buffer when one line fills it.
            int rest = filled - lineStart;
            if (lineStart == 0 && rest == buffer.Length)
            {
                Array.Resize(ref buffer, buffer.Length * 2);
            }
            else if (rest > 0)
            {
                Buffer.BlockCopy(buffer, lineStart, buffer, 0, rest);
            }

            bufferOffset += lineStart;
            filled = rest;
        }

        long fileLength = bufferOffset + filled;
        LoadIssue? tail = null;
        if (fileLength > validLength)
        {
            string reason = pendingBad.Count > 0
                ? pendingBad[0].Reason + (filled > 0 ? ", and the file does not end with a newline" : string.Empty)
                : "the last line has no newline (torn write)";
            long firstLine = pendingBad.Count > 0 ? pendingBad[0].Line : lineNumber + 1;
            tail = new LoadIssue(LoadIssueKind.DamagedTail, fullPath, firstLine, validLength, fileLength - validLength, reason);
            issues.Add(tail);
        }

        return new LoadedFile(fullPath, fileLength, validLength, recordCount, tail);
    }

    private static bool TryAccept(ReadOnlySpan<byte> line, out RecordSummary summary, out string? reason)
    {
        summary = default;
        if (line.Length == 0)
        {
            reason = "empty line";
            return false;
        }

        if (line.IndexOf((byte)0) >= 0)
        {
            reason = "NUL bytes";
            return false;
        }

        if (!RecordCodec.HasValidChecksum(line))
        {
            reason = "checksum mismatch or no checksum";
            return false;
        }

        return RecordSummaryReader.TryRead(line, out summary, out reason);
    }

    private static void Merge(Dictionary<string, SampleEntry> samples, RecordSummary summary, int fileIndex, long offset, int length)
    {
        var entry = new SampleEntry(summary.Status, summary.Final, summary.Attempt, summary.CompletedAtTicks, fileIndex, offset, length, summary.Status == RecordStatus.Failed ? 1 : 0);
        samples[summary.SampleId] = samples.TryGetValue(summary.SampleId, out SampleEntry earlier) ? RecordMerge.InOneFile(earlier, entry) : entry;
    }
}
