using System.Collections.Generic;

namespace Checkpoint.Datasets;

/// <summary>One row of a dataset, with its id.</summary>
public sealed class Sample
{
    internal Sample(string id, long rowNumber, IReadOnlyList<KeyValuePair<string, object?>> fields)
    {
        Id = id;
        RowNumber = rowNumber;
        Fields = fields;
    }

    /// <summary>The sample id: the id column's value, or one derived from the row's content.</summary>
    public string Id { get; }

    /// <summary>The 1-based row number (CSV data row, header not counted; JSONL line).</summary>
    public long RowNumber { get; }

    /// <summary>
    /// The row's columns in file order. Values are strings for CSV; for JSONL, strings, longs, doubles,
    /// booleans, null, or <see cref="System.Text.Json.JsonElement"/> for arrays and objects.
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, object?>> Fields { get; }
}
