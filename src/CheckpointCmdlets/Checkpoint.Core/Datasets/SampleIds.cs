using System;
using System.Collections.Generic;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Checkpoint.IO;
using Checkpoint.Json;

namespace Checkpoint.Datasets;

/// <summary>
/// The id rules of a dataset, for CSV and JSONL alike: the id is the column the caller names, else the
/// <c>id</c> column (exact case first), else derived from the row's content; an id is never empty.
/// </summary>
internal static class SampleIds
{
    /// <summary>The index of the id column in <paramref name="names"/>, or -1 when ids are derived; throws when a named column is missing.</summary>
    public static int FindIdColumn(string[] names, string? idColumn, string path)
    {
        string wanted = string.IsNullOrEmpty(idColumn) ? DatasetReader.DefaultIdColumn : idColumn!;
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

    /// <summary>The id of a row with these fields: the id column's value, checked, or one derived from the content.</summary>
    public static string IdOf(KeyValuePair<string, object?>[] fields, int idIndex, string path, long row)
    {
        if (idIndex < 0)
        {
            return DeriveId(fields);
        }

        return CheckedId(Convert.ToString(fields[idIndex].Value, CultureInfo.InvariantCulture) ?? string.Empty, fields[idIndex].Key, path, row);
    }

    /// <summary>Returns <paramref name="id"/>, or throws EmptySampleId for an empty or blank one.</summary>
    public static string CheckedId(string id, string column, string path, long row)
    {
        if (id.Trim().Length == 0)
        {
            throw new DatasetException(ErrorIds.EmptySampleId, path, $"'{path}' row {row} has an empty '{column}'. Give every row an id.", row);
        }

        return id;
    }

    // 'r' and 16 hex digits of the SHA-256 of the row's content, keys sorted, so that it stays the same when
    // rows or columns are reordered.
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
}
