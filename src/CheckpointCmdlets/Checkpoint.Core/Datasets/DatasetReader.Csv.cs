using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using Checkpoint.IO;
using CsvHelper;
using CsvHelper.Configuration;

namespace Checkpoint.Datasets;

/// <summary>
/// The CSV half of the dataset reader: <see cref="CsvRowReader"/> reads plain rows, CsvHelper reads on from the
/// first row it does not find plain, and both give a row's fields under the header's names.
/// </summary>
public static partial class DatasetReader
{
    // CsvRowReader reads the rows, those that need no fields by their id alone; CsvHelper reads on from the
    // first row the skipper does not find plain (or from the top, for a file the skipper cannot start on).
    // Without needsFields every row is read whole. With `hash` (a scan), every byte read goes to it (the caller
    // hashes what is left of the file), and the rows CsvHelper reads are read whole: it checks a row's
    // quoting only in the fields it is asked for.
    private static IEnumerable<Sample> ReadCsvWithSkipper(FileStream stream, string path, string? idColumn, Action<bool> reportDerived, Func<string, bool>? needsFields, HashAlgorithm? hash)
    {
        string[]? header = ReadCsvHeader(stream, path);
        int idIndex = header is null ? -1 : SampleIds.FindIdColumn(header, idColumn, path);
        var skipper = new CsvRowReader(stream, hash);
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

    // The header as CsvHelper reads it from the top of the stream, null for an empty file.
    private static string[]? ReadCsvHeader(Stream stream, string path)
    {
        stream.Position = 0;
        using StreamReader text = TextOf(stream);
        using var csv = new CsvReader(text, CsvConfig(path, () => 0), leaveOpen: true);
        return ReadHeader(csv, path);
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
            idIndex = SampleIds.FindIdColumn(header, idColumn, path);
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
                string id = SampleIds.CheckedId(parser[idIndex], header[idIndex], path, row);
                if (!needsFields(id))
                {
                    yield return new Sample(id, row, Array.Empty<KeyValuePair<string, object?>>());
                    continue;
                }
            }

            KeyValuePair<string, object?>[] fields = Fields(header, parser.Record!);
            yield return new Sample(SampleIds.IdOf(fields, idIndex, path, row), row, fields);
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

    private static string FirstLine(string text)
    {
        int newline = text.IndexOfAny(new[] { '\r', '\n' });
        return newline < 0 ? text : text.Substring(0, newline);
    }
}
