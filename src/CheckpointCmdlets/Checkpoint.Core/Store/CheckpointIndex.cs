using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;

namespace Checkpoint.Store;

/// <summary>
/// What a run's JSONL files say: the winning record of every sample (see <see cref="RecordMerge"/>), the counts,
/// and any damage found. Memory grows with the number of samples, never with the size of their outputs.
/// </summary>
public sealed class CheckpointIndex
{
    private readonly Dictionary<string, SampleEntry> _samples;

    internal CheckpointIndex(IReadOnlyList<LoadedFile> files, Dictionary<string, SampleEntry> samples, IReadOnlyList<LoadIssue> issues, UsageTotals usage)
    {
        Usage = usage;
        Files = files;
        _samples = samples;
        Issues = issues;
        foreach (SampleEntry entry in samples.Values)
        {
            CountIn(entry, 1);
            ErrorCount += entry.FailedAttempts;
            if (entry.CompletedAtTicks > LastRecordTicks)
            {
                LastRecordTicks = entry.CompletedAtTicks;
            }
        }
    }

    /// <summary>Tokens and cost over every record, history and failed attempts included.</summary>
    public UsageTotals Usage { get; }

    /// <summary>The files read, in the order given.</summary>
    public IReadOnlyList<LoadedFile> Files { get; }

    /// <summary>Bad lines and damaged tails, in file order.</summary>
    public IReadOnlyList<LoadIssue> Issues { get; }

    /// <summary>The winning record of each sample, by sample id.</summary>
    public IReadOnlyDictionary<string, SampleEntry> Samples => _samples;

    /// <summary>Samples whose winning record is completed.</summary>
    public int CompletedCount { get; private set; }

    /// <summary>Samples whose winning record is a failure the run gave up on.</summary>
    public int FailedCount { get; private set; }

    /// <summary>Samples whose winning record is a failed attempt that left them pending (stopped, killed, outage).</summary>
    public int RetryingCount { get; private set; }

    /// <summary>Failed attempts recorded, over all samples and history.</summary>
    public int ErrorCount { get; private set; }

    /// <summary>Good records in all files, history included, counting those appended since loading.</summary>
    public long RecordCount => Files.Sum(f => f.RecordCount) + _appended;

    /// <summary>UTC ticks of the newest record's completion time, or 0 when there is none.</summary>
    public long LastRecordTicks { get; private set; }

    private long _appended;

    /// <summary>
    /// Takes in a record that the store has just appended to file <paramref name="fileIndex"/>, so the index
    /// stays what a fresh load of the files would give.
    /// </summary>
    [MethodImpl(JitOptions.Optimized)]
    internal void Apply(CheckpointRecord record, int fileIndex, long offset, int length)
    {
        long ticks = record.CompletedAt.UtcTicks;
        var entry = new SampleEntry(record.Status, record.Final, record.Attempt, ticks, fileIndex, offset, length, record.Status == RecordStatus.Failed ? 1 : 0);
        if (_samples.TryGetValue(record.SampleId, out SampleEntry old))
        {
            CountIn(old, -1);
            entry = RecordMerge.InOneFile(old, entry);
        }

        _samples[record.SampleId] = entry;
        CountIn(entry, 1);
        if (record.Status == RecordStatus.Failed)
        {
            ErrorCount++;
        }

        LastRecordTicks = Math.Max(LastRecordTicks, ticks);
        Usage.Add(record.InputTokens ?? 0, record.OutputTokens ?? 0, record.Cost ?? 0);
        Usage.AddCached(record.CacheHits, record.CachedCost);
        _appended++;
    }

    private void CountIn(SampleEntry entry, int delta)
    {
        if (entry.Status == RecordStatus.Completed)
        {
            CompletedCount += delta;
        }
        else if (entry.Final)
        {
            FailedCount += delta;
        }
        else
        {
            RetryingCount += delta;
        }
    }

    /// <summary>True when the winning record of <paramref name="sampleId"/> is completed.</summary>
    public bool IsCompleted(string sampleId) => _samples.TryGetValue(sampleId, out SampleEntry e) && e.Status == RecordStatus.Completed;

    /// <summary>
    /// Reads the winning record of every sample that <paramref name="filter"/> accepts, in file order, one at
    /// a time, so that memory stays flat however large the outputs are.
    /// </summary>
    public IEnumerable<CheckpointRecord> ReadLatestRecords(Func<string, SampleEntry, bool>? filter = null)
    {
        var selected = new List<SampleEntry>();
        foreach (KeyValuePair<string, SampleEntry> pair in _samples)
        {
            if (filter is null || filter(pair.Key, pair.Value))
            {
                selected.Add(pair.Value);
            }
        }

        selected.Sort((a, b) => a.FileIndex != b.FileIndex ? a.FileIndex.CompareTo(b.FileIndex) : a.Offset.CompareTo(b.Offset));
        FileStream? stream = null;
        int streamFile = -1;
        byte[] buffer = new byte[4096];
        try
        {
            foreach (SampleEntry entry in selected)
            {
                if (entry.FileIndex != streamFile)
                {
                    stream?.Dispose();
                    stream = new FileStream(Files[entry.FileIndex].Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16);
                    streamFile = entry.FileIndex;
                }

                if (buffer.Length < entry.Length)
                {
                    buffer = new byte[entry.Length];
                }

                stream!.Position = entry.Offset;
                int done = 0;
                while (done < entry.Length)
                {
                    int n = stream.Read(buffer, done, entry.Length - done);
                    if (n == 0)
                    {
                        break;
                    }

                    done += n;
                }

                CheckpointRecord? record = done == entry.Length ? DecodeChecked(buffer, done) : null;
                if (record is not null)
                {
                    yield return record;
                }
            }
        }
        finally
        {
            stream?.Dispose();
        }
    }

    // The file may have been cut or replaced since it was indexed; never return bytes that no longer check.
    private static CheckpointRecord? DecodeChecked(byte[] buffer, int length)
    {
        var line = new ReadOnlySpan<byte>(buffer, 0, length);
        return RecordCodec.HasValidChecksum(line) ? RecordCodec.Decode(line) : null;
    }
}
