using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using Checkpoint.Datasets;
using Xunit;

namespace Checkpoint.Tests;

/// <summary>
/// A JSONL file is split into lines as bytes, and a row the caller does not need is read by its id straight
/// from those bytes; anything unusual is read as a line of text, as before. Whatever the file holds, a scan
/// must find what reading it as text finds, and so must a read of a file the scan accepts (a read stops at
/// a row's id, relying on the scan for the rest of the line): these tests compare the two on random files
/// (ids of every kind, escapes, nested values, blank lines, every line break, byte order marks) and on odd input.
/// </summary>
public sealed class JsonlBytesTests
{
    private static readonly Encoding s_utf8NoBom = new UTF8Encoding(false);

    public static IEnumerable<object[]> Seeds() => Enumerable.Range(1, 40).Select(seed => new object[] { seed });

    [Theory]
    [MemberData(nameof(Seeds))]
    public void ReadingFromBytesFindsWhatReadingTextFinds(int seed)
    {
        var random = new Random(seed);
        using var dir = new TestDirectory();
        string path = dir.File("data.jsonl");
        File.WriteAllBytes(path, RandomJsonl(random));
        string[] ids = DatasetReader.Read(path, null, null, fastReaders: false).Select(s => s.Id).ToArray();

        var wanted = new HashSet<string>(ids.Where(_ => random.Next(4) == 0));
        Assert.Equal(ids.Length, DatasetReader.Scan(path).RowCount);
        foreach (Func<string, bool>? needsFields in new Func<string, bool>?[] { null, _ => false, _ => true, wanted.Contains })
        {
            Assert.Equal(Outcome(() => DatasetReader.Read(path, null, needsFields, fastReaders: false)), Outcome(() => DatasetReader.Read(path, needsFields: needsFields)));
        }

        Assert.Equal(DatasetReaderTests.ScanOutcome(() => DatasetReader.Scan(path, null, null, fastReaders: false)), DatasetReaderTests.ScanOutcome(() => DatasetReader.Scan(path)));
    }

    [Theory]
    [InlineData("{\"id\":\"a1\"}\n{\"id\":1.5}\n{\"id\":1e2}\n{\"id\":true}\n{\"id\":{\"n\":1}}\n{\"id\":[1]}\n{\"id\":-7}\n")]
    [InlineData("{\"id\":\"a1\"}\n{\"id\":99999999999999999999}\n")]
    [InlineData("{\"id\":\"a1\"}\n{\"id\":null}\n")]
    [InlineData("{\"id\":\"a1\"}\n{\"id\":\"\\t \"}\n")]
    [InlineData("{\"id\":\"a1\"}\r{\"id\":\"a2\"}\r\n{\"id\":\"a3\"}\n\r{\"id\":\"a4\"}\r")]
    [InlineData("{\"id\":\"a1\"}\n{\"id\":\"a2\"} {\"id\":\"a3\"}\n")]
    [InlineData("{\"id\":\"a1\"}\n{\"id\":\"a2\"}x\n")]
    [InlineData("{\"id\":\"a1\"}\n{\"id\":\"a2\",}\n")]
    [InlineData("{\"id\":\"a1\"}\n{\"id\":\"a2\" /* note */}\n")]
    [InlineData("{\"id\":\"a1\"}\n\"just a string\"\n")]
    [InlineData("{\"id\":\"a1\"}\n{\"id\":\"a2\",\"q\":\"tab\tinside\"}\n")]
    [InlineData("{\"id\":\"a1\"}\n\v{\"id\":\"a2\"}\n")]
    [InlineData("{\"id\":\"a1\"}\n\u00a0\u0085\n\u001f\n \t \n{\"id\":\"a2\"}\n")]
    [InlineData("{\"id\":\"a1\"}\n{\"\\u0069d\":\"a2\",\"id\":\"a3\"}\n{\"ID\":\"a4\"}\n")]
    [InlineData("{\"ID\":\"a1\"}\n{\"id\":\"x\",\"ID\":\"a2\"}\n")]
    [InlineData("{\"id\":\"a1\"}\n{\"id\":\"a2\"\n")]
    [InlineData("{\"id\":\"a1\"}\n{\"q\":{\"id\":\"nested\"}}\n")]
    [InlineData("{\"id\":\"a1\"}\n{\"q\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]],\"id\":\"a2\"}\n")]
    [InlineData("{\"id\":\"a1\"}\n{\"id\":\"a1\"}\n")]
    [InlineData("{\"id\":\"a1\",\"q\":\"x\"}\n{\"id\":2,\"q\":[1,{\"n\":null}]}\n\n  \n{\"q\":\"y\",\"id\":\"a3\"}")]
    [InlineData("\uFEFF{\"id\":\"a1\"}\r\n{\"id\":\"a2\"}\r\n")]
    [InlineData("{\"id\":\"a1\"}\n{\"q\":\"no id\"}\n")]
    [InlineData("{\"id\":\"a1\"}\n{\"id\":\"  \"}\n")]
    [InlineData("{\"id\":\"a1\"}\n{\"id\":\"a2\",\"q\":\"unclosed}\n")]
    [InlineData("{\"id\":\"a1\"}\n[1,2]\n")]
    [InlineData("{\"id\":\"a1\"}\n{\"id\":\"a2\"} trailing\n")]
    [InlineData("{\"id\":\"a1\",\"id\":\"dup\"}\n{\"id\":\"a2\",\"id\":\"a1\"}\n")]
    [InlineData("{\"q\":\"derived\"}\n{\"q\":\"derived too\"}\n")]
    public void OddInputReadsAsTextReadsIt(string content)
    {
        using var dir = new TestDirectory();
        string path = dir.File("data.jsonl");
        File.WriteAllText(path, content, s_utf8NoBom);
        AssertSameAsText(path);
    }

    [Fact]
    public void InvalidUtf8ReadsAsTextReadsIt()
    {
        using var dir = new TestDirectory();
        string path = dir.File("data.jsonl");
        byte[] bad = { 0xC3, 0x28, 0xFF };
        byte[] content = Concat("{\"id\":\"a1\"}\n{\"id\":\"a", bad, "2\"}\n{\"id\":\"a3\",\"q\":\"", bad, "\"}\n{\"id\":\"a4\"}", bad, "\n");
        File.WriteAllBytes(path, content);
        AssertSameAsText(path);
    }

    [Theory]
    [InlineData("utf-16")]
    [InlineData("utf-16BE")]
    [InlineData("utf-32")]
    [InlineData("utf-8")]
    public void AFileWithAByteOrderMarkReadsAsTextReadsIt(string encoding)
    {
        using var dir = new TestDirectory();
        string path = dir.File("data.jsonl");
        Encoding chosen = encoding == "utf-32" ? new UTF32Encoding(false, true) : Encoding.GetEncoding(encoding);
        File.WriteAllBytes(path, chosen.GetPreamble().Concat(chosen.GetBytes("{\"id\":\"a1\",\"q\":\"é\"}\n{\"id\":\"a2\",\"q\":\"ü\"}\n")).ToArray());

        Assert.Equal(new[] { "a1", "a2" }, DatasetReader.Read(path, needsFields: _ => false).Select(s => s.Id));
        AssertSameAsText(path);
    }

    [Fact]
    public void LinesAcrossTheReadBufferAndLongerThanItSplitAsText()
    {
        // A carriage return as the last byte of the first read (its line feed in the next), a lone one at the
        // end of a later read, and a line longer than the buffer.
        var text = new StringBuilder();
        text.Append("{\"id\":\"a0\",\"q\":\"").Append('x', 65_535 - "{\"id\":\"a0\",\"q\":\"\"}".Length).Append("\"}\r\n");
        for (int i = 1; i < 3000; i++)
        {
            text.Append("{\"id\":\"a").Append(i).Append("\",\"q\":\"").Append('y', i % 97).Append(i % 3 == 0 ? "\"}\r" : "\"}\n");
        }

        text.Append("{\"id\":\"long\",\"q\":\"").Append('z', 300_000).Append("\"}\r");
        using var dir = new TestDirectory();
        string path = dir.File("data.jsonl");
        File.WriteAllText(path, text.ToString(), s_utf8NoBom);
        Assert.Equal((byte)'\r', File.ReadAllBytes(path)[65_535]);

        Assert.Equal(3001, DatasetReader.Read(path, needsFields: _ => false).Count());
        AssertSameAsText(path);
    }

    // The scans find the same; so do the reads of a file the scan accepts.
    private static void AssertSameAsText(string path)
    {
        string scan = DatasetReaderTests.ScanOutcome(() => DatasetReader.Scan(path));
        Assert.Equal(DatasetReaderTests.ScanOutcome(() => DatasetReader.Scan(path, null, null, fastReaders: false)), scan);
        if (scan.StartsWith(ErrorIds.MalformedJson, StringComparison.Ordinal) || scan.StartsWith(ErrorIds.EmptySampleId, StringComparison.Ordinal))
        {
            return;
        }

        foreach (Func<string, bool>? needsFields in new Func<string, bool>?[] { null, _ => false, _ => true, id => id.EndsWith("2", StringComparison.Ordinal) })
        {
            Assert.Equal(Outcome(() => DatasetReader.Read(path, null, needsFields, fastReaders: false)), Outcome(() => DatasetReader.Read(path, needsFields: needsFields)));
        }
    }

    // The ids and line numbers read, with the fields of rows read whole, or the error.
    private static string Outcome(Func<IEnumerable<Sample>> read)
    {
        try
        {
            return string.Join("|", read().Select(s => $"{s.Id}@{s.RowNumber}:{string.Join(",", s.Fields.Select(f => $"{f.Key}={f.Value}"))}"));
        }
        catch (DatasetException e)
        {
            return $"{e.ErrorId} {e.RowNumber} {e.Message}";
        }
    }

    private static byte[] Concat(params object[] parts) =>
        parts.SelectMany(p => p as byte[] ?? s_utf8NoBom.GetBytes((string)p)).ToArray();

    private static byte[] RandomJsonl(Random random)
    {
        string[] breaks = { "\n", "\r\n", "\r" };
        var text = new StringBuilder();
        int rows = random.Next(1, 60);
        for (int row = 0; row < rows; row++)
        {
            if (random.Next(10) == 0)
            {
                text.Append(random.Next(2) == 0 ? string.Empty : " \t").Append(breaks[random.Next(3)]);
            }

            var properties = new List<string> { $"\"question\":{Value(random, 0)}", $"\"answer\":{Value(random, 0)}" };
            properties.Insert(random.Next(3), $"{(random.Next(8) == 0 ? "\"\\u0069d\"" : "\"id\"")}:{Id(random, row)}");
            if (random.Next(8) == 0)
            {
                properties.Add($"\"id\":\"second {row}\"");
            }

            text.Append(random.Next(6) == 0 ? " " : string.Empty).Append('{').Append(string.Join(random.Next(4) == 0 ? " , " : ",", properties)).Append('}');
            if (row < rows - 1 || random.Next(2) == 0)
            {
                text.Append(breaks[random.Next(3)]);
            }
        }

        byte[] bytes = s_utf8NoBom.GetBytes(text.ToString());
        return random.Next(3) == 0 ? new byte[] { 0xEF, 0xBB, 0xBF }.Concat(bytes).ToArray() : bytes;
    }

    private static string Id(Random random, int row) => random.Next(8) switch
    {
        0 => row.ToString(System.Globalization.CultureInfo.InvariantCulture),
        1 => $"-{row + 1}",
        2 => $"\"q\\\"{row}\\n\"",
        3 => $"\"é\\u00e9{row}\"",
        4 => $"{row}.5",
        5 => $"\"q{row}\"",
        _ => $"\"row {row}\"",
    };

    private static string Value(Random random, int depth) => random.Next(depth > 2 ? 5 : 8) switch
    {
        0 => "null",
        1 => random.Next(2) == 0 ? "true" : "false",
        2 => (random.NextDouble() * 1000).ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        3 => "\"ünïcödé, \\\"quoted\\\" \\\\ \\/ \\t\"",
        4 => "\"\"",
        5 => $"{{\"n\":{Value(random, depth + 1)},\"id\":\"inner\"}}",
        6 => $"[{Value(random, depth + 1)},{Value(random, depth + 1)}]",
        _ => "\"plain " + random.Next(1000) + "\"",
    };
}
