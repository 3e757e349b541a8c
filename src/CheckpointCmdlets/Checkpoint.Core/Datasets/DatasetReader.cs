using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using Checkpoint.IO;

namespace Checkpoint.Datasets;

/// <summary>
/// Streams the samples of a CSV (RFC 4180: quoted newlines, BOM, UTF-8; plain rows read by the row skipper,
/// anything else by CsvHelper) or JSONL file, in constant memory. A sample's id is the <c>id</c> column, or
/// the column the caller names, or, when the dataset has no id column, one derived from the row's content
/// (<see cref="SampleIds"/>).
/// </summary>
public static partial class DatasetReader
{
    /// <summary>The column used as the id when the caller names none.</summary>
    public const string DefaultIdColumn = "id";

    // For rows that are needed by their id alone.
    private static readonly Func<string, bool> IdOnly = _ => false;

    /// <summary>
    /// Reads the whole dataset once and checks it: it exists, parses, is not empty, has the id column asked
    /// for, and no id repeats. Returns its size and fingerprint. Throws <see cref="DatasetException"/> with a
    /// stable error id otherwise. Memory grows with the number of ids only.
    /// </summary>
    public static DatasetInfo Scan(string path, string? idColumn = null) => Scan(path, idColumn, null);

    /// <summary>
    /// As <see cref="Scan(string, string?)"/>, and counts the samples that <paramref name="include"/> accepts
    /// (the samples of one shard) in <see cref="DatasetInfo.IncludedCount"/>.
    /// </summary>
    public static DatasetInfo Scan(string path, string? idColumn, Func<string, bool>? include) => Scan(path, idColumn, include, fastReaders: true);

    /// <summary>
    /// As <see cref="Scan(string, string?, Func{string, bool}?)"/>; with <paramref name="fastReaders"/> false,
    /// every row is read whole, by CsvHelper or as a line of text by the JSON parser (the reference the fast
    /// readers are tested against).
    /// </summary>
    internal static DatasetInfo Scan(string path, string? idColumn, Func<string, bool>? include, bool fastReaders)
    {
        int included = 0;
        string fullPath = CheckPath(path);
        var firstRow = new Dictionary<string, long>(StringComparer.Ordinal);
        bool derived = false;
        long size;
        byte[] digest;
        using (FileStream stream = OpenFile(fullPath))
        {
            size = stream.Length;
            digest = ScanRows(stream, fullPath, idColumn, d => derived = d, fastReaders, sample =>
            {
                if (firstRow.TryGetValue(sample.Id, out long earlier))
                {
                    throw new DatasetException(
                        ErrorIds.DuplicateSampleId,
                        fullPath,
                        $"Sample id '{sample.Id}' appears twice in '{fullPath}': rows {earlier} and {sample.RowNumber}. Make the ids unique, or name another column with -IdColumn.",
                        sample.RowNumber) { Target = sample.Id };
                }

                firstRow.Add(sample.Id, sample.RowNumber);
                if (include is null || include(sample.Id))
                {
                    included++;
                }
            });
        }

        if (firstRow.Count == 0)
        {
            throw new DatasetException(ErrorIds.DatasetEmpty, fullPath, $"The dataset '{fullPath}' has no rows. Point -Dataset at a file with at least one sample.");
        }

        string sha = string.Concat(digest.Select(b => b.ToString("x2", CultureInfo.InvariantCulture)));
        long lastWrite = File.GetLastWriteTimeUtc(fullPath).Ticks;
        return new DatasetInfo(fullPath, firstRow.Count, included, new DatasetFingerprint(size, sha, firstRow.Count, lastWrite), derived);
    }

    // Scan's pass: every sample to `found`; returns the SHA-256 of every byte of the file (the parsers may stop
    // before the end, at trailing blank lines). A JSONL row is parsed whole either way, and only its id is
    // read from it.
    private static byte[] ScanRows(FileStream stream, string path, string? idColumn, Action<bool> reportDerived, bool fastReaders, Action<Sample> found)
    {
        using SHA256 hash = SHA256.Create();
        stream.Position = 0;
        IEnumerable<Sample> samples = fastReaders && IsCsv(path)
            ? ReadCsvWithSkipper(stream, path, idColumn, reportDerived, IdOnly, hash)
            : ReadFrom(new HashingReadStream(stream, hash), path, idColumn, reportDerived, fastReaders ? IdOnly : null, fastReaders, scanning: true);
        foreach (Sample sample in samples)
        {
            found(sample);
        }

        // Every byte read so far went to the hash: it takes the rest of the file from where the reading stopped.
        return new HashingReadStream(stream, hash).Finish();
    }

    /// <summary>
    /// Streams the samples of <paramref name="path"/>. Call Scan first to validate it: a row read by its id
    /// alone is not checked beyond its id. A row whose id
    /// <paramref name="needsFields"/> turns down comes with its id alone and no fields: a resume skips its
    /// completed rows without making a string of every column.
    /// </summary>
    public static IEnumerable<Sample> Read(string path, string? idColumn = null, Func<string, bool>? needsFields = null) =>
        Read(path, idColumn, needsFields, fastReaders: true);

    /// <summary>
    /// As <see cref="Read(string, string?, Func{string, bool}?)"/>; with <paramref name="fastReaders"/>
    /// false, CsvHelper reads every row of a CSV, and a JSONL file is read as lines of text (the reference the
    /// row skipper and the JSONL byte read are tested against).
    /// </summary>
    internal static IEnumerable<Sample> Read(string path, string? idColumn, Func<string, bool>? needsFields, bool fastReaders)
    {
        string fullPath = CheckPath(path);
        using FileStream stream = OpenFile(fullPath);
        IEnumerable<Sample> samples = fastReaders && IsCsv(fullPath)
            ? ReadCsvWithSkipper(stream, fullPath, idColumn, _ => { }, needsFields, hash: null)
            : ReadFrom(stream, fullPath, idColumn, _ => { }, needsFields, fastReaders, scanning: false);
        foreach (Sample sample in samples)
        {
            yield return sample;
        }
    }

    private static bool IsCsv(string path) => Path.GetExtension(path).Equals(".csv", StringComparison.OrdinalIgnoreCase);

    // A dataset's text: UTF-8, or what its byte order mark names when `detectByteOrderMark`; the stream stays open.
    private static StreamReader TextOf(Stream stream, bool detectByteOrderMark = true) =>
        new(stream, new UTF8Encoding(false), detectByteOrderMark, bufferSize: 65536, leaveOpen: true);

    private static IEnumerable<Sample> ReadFrom(Stream stream, string path, string? idColumn, Action<bool> reportDerived, Func<string, bool>? needsFields, bool fastReaders, bool scanning)
    {
        string extension = Path.GetExtension(path).ToLowerInvariant();
        return extension switch
        {
            ".csv" => ReadCsv(TextOf(stream), path, idColumn, reportDerived, needsFields),
            ".jsonl" or ".ndjson" => ReadJsonl(stream, path, idColumn, reportDerived, needsFields, fastReaders, scanning),
            _ => throw new DatasetException(ErrorIds.DatasetFormatUnknown, path, $"'{path}' is neither .csv nor .jsonl. Give the dataset one of those extensions."),
        };
    }

    private static string CheckPath(string path)
    {
        string fullPath = Path.GetFullPath(path);
        if (!File.Exists(fullPath))
        {
            throw new DatasetException(ErrorIds.DatasetNotFound, fullPath, $"The dataset '{fullPath}' does not exist. Check -Dataset; Resume-CheckpointRun reads the dataset where the run last found it (the Dataset of Get-CheckpointStats), so put a moved file back there, or start the run again with Start-CheckpointRun and its new path.");
        }

        return fullPath;
    }

    private static FileStream OpenFile(string fullPath)
    {
        try
        {
            return new FileStream(fullPath, FileMode.Open, FileAccess.Read, FileShare.Read, 65536, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DatasetException(ErrorIds.DatasetUnreadable, fullPath, $"The dataset '{fullPath}' cannot be read: {e.Message}", null, e);
        }
    }
}
