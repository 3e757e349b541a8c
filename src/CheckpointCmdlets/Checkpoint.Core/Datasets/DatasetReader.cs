using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Checkpoint.IO;
using Checkpoint.Json;
using CsvHelper;
using CsvHelper.Configuration;

namespace Checkpoint.Datasets;

/// <summary>
/// Streams the samples of a CSV (RFC 4180: quoted newlines, BOM, UTF-8; plain rows read by the row skipper,
/// anything else by CsvHelper) or JSONL file, in constant memory. A sample's id is the <c>id</c> column, or
/// the column the caller names, or, when the dataset has no id column, 'r' and 16 hex digits of the SHA-256 of
/// the row's content (keys sorted), so it stays the same when rows are reordered.
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

    // CsvRowSkipper reads the rows, those that need no fields by their id alone; CsvHelper reads on from the
    // first row the skipper does not find plain (or from the top, for a file the skipper cannot start on).
    // Without needsFields every row is read whole. With `hash` (a scan), every byte read goes to it (the caller
    // hashes what is left of the file), and the rows CsvHelper reads are read whole: it checks a row's
    // quoting only in the fields it is asked for.
    private static IEnumerable<Sample> ReadCsvWithSkipper(FileStream stream, string path, string? idColumn, Action<bool> reportDerived, Func<string, bool>? needsFields, HashAlgorithm? hash)
    {
        string[]? header = ReadCsvHeader(stream, path);
        int idIndex = header is null ? -1 : FindIdColumn(header, idColumn, path);
        var skipper = new CsvRowSkipper(stream, hash);
        long row = 0;
        CsvStart? start = null;
        if (idIndex >= 0 && skipper.SkipHeader(header!))
        {
            reportDerived(false);
            while (true)
            {
                if (needsFields is not null && skipper.NextPassedRowId(header!.Length, idIndex, needsFields) is string id)
                {
                    row++;
                    yield return new Sample(id, row, Array.Empty<KeyValuePair<string, object?>>());
                }
                else if (skipper.NextRowFields(header!.Length, idIndex) is string?[] values)
                {
                    row++;
                    yield return new Sample(values[idIndex]!, row, Fields(header, values));
                }
                else
                {
                    break;
                }
            }

            skipper.HashPassedRows();
            start = new CsvStart(header!, idIndex, row, skipper.LineBreaks);
        }
        else
        {
            // CsvHelper reads the file from its first byte, which the hash is to take from there too.
            hash?.Initialize();
        }

        stream.Position = start is null ? 0 : skipper.RowStart;
        Stream rest = hash is null ? stream : new HashingReadStream(stream, hash);
        StreamReader text = TextOf(rest, detectByteOrderMark: start is null);
        foreach (Sample sample in ReadCsv(text, path, idColumn, start is null ? reportDerived : _ => { }, hash is null ? needsFields : null, start))
        {
            yield return sample;
        }
    }

    private static bool IsCsv(string path) => Path.GetExtension(path).Equals(".csv", StringComparison.OrdinalIgnoreCase);

    // A dataset's text: UTF-8, or what its byte order mark names when `detectByteOrderMark`; the stream stays open.
    private static StreamReader TextOf(Stream stream, bool detectByteOrderMark = true) =>
        new(stream, new UTF8Encoding(false), detectByteOrderMark, bufferSize: 65536, leaveOpen: true);

    // The header as CsvHelper reads it from the top of the stream, null for an empty file.
    private static string[]? ReadCsvHeader(Stream stream, string path)
    {
        stream.Position = 0;
        using StreamReader text = TextOf(stream);
        using var csv = new CsvReader(text, CsvConfig(path, () => 0), leaveOpen: true);
        return ReadHeader(csv, path);
    }

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

    /// <summary>Where a CSV read starts when it does not start at the top: after <c>Row</c> data rows.</summary>
    private sealed record CsvStart(string[] Header, int IdIndex, long Row, long LineBreaks);

    private static IEnumerable<Sample> ReadCsv(StreamReader text, string path, string? idColumn, Action<bool> reportDerived, Func<string, bool>? needsFields, CsvStart? start = null)
    {
        long row = start?.Row ?? 0;

        // CsvHelper reports bad data when it parses a record's fields, after the row was counted.
        long current = 0;
        CsvConfiguration config = CsvConfig(path, () => current);
        config.HasHeaderRecord = start is null;
        using var csv = new CsvReader(text, config, leaveOpen: true);
        string[] header;
        int idIndex;
        if (start is null)
        {
            string[]? read = ReadHeader(csv, path);
            if (read is null)
            {
                yield break;
            }

            header = read;
            idIndex = FindIdColumn(header, idColumn, path);
            reportDerived(idIndex < 0);
        }
        else
        {
            header = start.Header;
            idIndex = start.IdIndex;
        }

        while (true)
        {
            bool more;
            current = row + 1;
            try
            {
                more = csv.Read();
            }
            catch (CsvHelperException e)
            {
                throw new DatasetException(ErrorIds.MalformedCsv, path, $"'{path}' is not valid CSV at row {row + 1}: {FirstLine(e.Message)}", row + 1, e);
            }

            if (!more)
            {
                yield break;
            }

            row++;
            IParser parser = csv.Parser;
            int count = parser.Count;
            if (count == 0 || (count == 1 && header.Length > 1 && parser[0].Length == 0))
            {
                row--;
                continue;
            }

            if (count != header.Length)
            {
                throw new DatasetException(
                    ErrorIds.MalformedCsv,
                    path,
                    $"'{path}' is not valid CSV at row {row} (line {parser.RawRow + (start?.LineBreaks ?? 0)}): it has {count} field(s) where the header has {header.Length}. Look for an unbalanced quote or a missing comma.",
                    row);
            }

            if (needsFields is not null && idIndex >= 0)
            {
                string id = CheckedId(parser[idIndex], header[idIndex], path, row);
                if (!needsFields(id))
                {
                    yield return new Sample(id, row, Array.Empty<KeyValuePair<string, object?>>());
                    continue;
                }
            }

            KeyValuePair<string, object?>[] fields = Fields(header, parser.Record!);
            yield return new Sample(IdOf(fields, idIndex, path, row), row, fields);
        }
    }

    // A CSV row's fields under the header's names, whichever reader read the row.
    private static KeyValuePair<string, object?>[] Fields(string[] header, IReadOnlyList<string?> values)
    {
        var fields = new KeyValuePair<string, object?>[header.Length];
        for (int i = 0; i < header.Length; i++)
        {
            fields[i] = new KeyValuePair<string, object?>(header[i], values[i]);
        }

        return fields;
    }

    private static CsvConfiguration CsvConfig(string path, Func<long> currentRow) => new(CultureInfo.InvariantCulture)
    {
        Mode = CsvMode.RFC4180,
        DetectColumnCountChanges = false,
        MissingFieldFound = null,
        BadDataFound = args => throw new DatasetException(
            ErrorIds.MalformedCsv,
            path,
            $"'{path}' is not valid CSV at row {currentRow()}: a quote is unbalanced or misplaced (a quote inside an unquoted field, text after a closing quote, or a quote never closed). Quote the whole field and double any quote inside it.",
            currentRow()),
    };

    // The header's names, an unnamed column being "column" and its number; null for an empty file.
    private static string[]? ReadHeader(CsvReader csv, string path)
    {
        try
        {
            if (!csv.Read() || !csv.ReadHeader() || csv.HeaderRecord is null)
            {
                return null;
            }

            string[] names = csv.HeaderRecord.Select((h, i) => string.IsNullOrEmpty(h) ? "column" + (i + 1).ToString(CultureInfo.InvariantCulture) : h).ToArray();
            CheckNamesUnique(names, path);
            return names;
        }
        catch (CsvHelperException e) when (e is not null)
        {
            throw new DatasetException(ErrorIds.MalformedCsv, path, $"'{path}' has a header that cannot be read as CSV: {e.Message}", 0, e);
        }
    }

    // A row becomes `$_` with one property per column, and PowerShell's property names ignore case: of two
    // columns with one name, one would be lost, as Import-Csv refuses too.
    private static void CheckNamesUnique(string[] names, string path)
    {
        var seen = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        for (int i = 0; i < names.Length; i++)
        {
            if (seen.TryGetValue(names[i], out int first))
            {
                throw new DatasetException(
                    ErrorIds.MalformedCsv,
                    path,
                    string.Format(CultureInfo.InvariantCulture, "'{0}' has two columns named '{1}' (columns {2} and {3}; names are compared without case, as PowerShell's properties are). Rename one of them.", path, names[i], first + 1, i + 1),
                    0);
            }

            seen.Add(names[i], i);
        }
    }

    private static int FindIdColumn(string[] names, string? idColumn, string path)
    {
        string wanted = string.IsNullOrEmpty(idColumn) ? DefaultIdColumn : idColumn!;
        int exact = Array.IndexOf(names, wanted);
        int index = exact >= 0 ? exact : Array.FindIndex(names, n => string.Equals(n, wanted, StringComparison.OrdinalIgnoreCase));
        if (index < 0 && !string.IsNullOrEmpty(idColumn))
        {
            throw new DatasetException(
                ErrorIds.IdColumnNotFound,
                path,
                $"'{path}' has no column '{idColumn}'. Its columns are: {string.Join(", ", names)}. Name one of them with -IdColumn, or leave -IdColumn out to derive ids from the content.");
        }

        return index;
    }

    private static string IdOf(KeyValuePair<string, object?>[] fields, int idIndex, string path, long row)
    {
        if (idIndex < 0)
        {
            return DeriveId(fields);
        }

        return CheckedId(Convert.ToString(fields[idIndex].Value, CultureInfo.InvariantCulture) ?? string.Empty, fields[idIndex].Key, path, row);
    }

    private static string CheckedId(string id, string column, string path, long row)
    {
        if (id.Trim().Length == 0)
        {
            throw new DatasetException(ErrorIds.EmptySampleId, path, $"'{path}' row {row} has an empty '{column}'. Give every row an id.", row);
        }

        return id;
    }

    private static string DeriveId(KeyValuePair<string, object?>[] fields)
    {
        var buffer = new GrowableBuffer(1024);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            PlainJson.WriteValue(writer, fields, sortKeys: true);
        }

        byte[] digest;
        using (SHA256 sha = SHA256.Create())
        {
            digest = sha.ComputeHash(buffer.Array, 0, buffer.Count);
        }

        var id = new StringBuilder("r", 17);
        for (int i = 0; i < 8; i++)
        {
            id.Append(digest[i].ToString("x2", CultureInfo.InvariantCulture));
        }

        return id.ToString();
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

    private static string FirstLine(string text)
    {
        int newline = text.IndexOfAny(new[] { '\r', '\n' });
        return newline < 0 ? text : text.Substring(0, newline);
    }
}
