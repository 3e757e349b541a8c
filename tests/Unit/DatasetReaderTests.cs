using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Checkpoint.Datasets;
using Xunit;

namespace Checkpoint.Tests;

public sealed class DatasetReaderTests
{
    private static readonly Encoding s_utf8NoBom = new UTF8Encoding(false);

    // ---- CSV parsing -------------------------------------------------------------------------------------

    [Fact]
    public void CsvQuotedFieldsKeepNewlinesCommasAndDoubledQuotes()
    {
        using var dir = new TestDirectory();
        string path = dir.File("data.csv");
        File.WriteAllText(
            path,
            "id,question,answer\r\n" +
            "a1,\"Line one\nline two, with a comma\",\"He said \"\"hi\"\" and left\"\r\n" +
            "a2,plain,\"three\r\nlines\r\n#### 42\"\r\n",
            s_utf8NoBom);

        Sample[] samples = DatasetReader.Read(path).ToArray();

        Assert.Equal(new[] { "a1", "a2" }, samples.Select(s => s.Id).ToArray());
        Assert.Equal(new long[] { 1, 2 }, samples.Select(s => s.RowNumber).ToArray());
        Assert.Equal(new[] { "id", "question", "answer" }, samples[0].Fields.Select(f => f.Key).ToArray());
        Assert.Equal("Line one\nline two, with a comma", Field(samples[0], "question"));
        Assert.Equal("He said \"hi\" and left", Field(samples[0], "answer"));
        Assert.Equal("plain", Field(samples[1], "question"));
        Assert.Equal("three\r\nlines\r\n#### 42", Field(samples[1], "answer"));

        DatasetInfo info = DatasetReader.Scan(path);
        Assert.Equal(2, info.RowCount);
        Assert.Equal(2, info.IncludedCount);
        Assert.False(info.DerivedIds);
        Assert.Equal(Path.GetFullPath(path), info.Path);
    }

    [Fact]
    public void CsvRowsTurnedDownByNeedsFieldsComeWithTheirIdAlone()
    {
        using var dir = new TestDirectory();
        string path = dir.File("data.csv");
        File.WriteAllText(path, "id,question\na1,\"one, quoted\"\n\na2,two\na3,\"three\nlines\"\n", s_utf8NoBom);
        var asked = new List<string>();

        Sample[] samples = DatasetReader.Read(path, needsFields: id => { asked.Add(id); return id == "a2"; }).ToArray();

        Assert.Equal(new[] { "a1", "a2", "a3" }, asked.Distinct());
        Assert.Equal(new[] { "a1", "a2", "a3" }, samples.Select(s => s.Id).ToArray());
        Assert.Equal(new long[] { 1, 2, 3 }, samples.Select(s => s.RowNumber).ToArray());
        Assert.Empty(samples[0].Fields);
        Assert.Equal("two", Field(samples[1], "question"));
        Assert.Empty(samples[2].Fields);
    }

    [Fact]
    public void JsonlRowsTurnedDownByNeedsFieldsComeWithTheIdTheFullReadGives()
    {
        using var dir = new TestDirectory();
        string path = dir.File("data.jsonl");
        File.WriteAllText(
            path,
            "{\"id\":\"a1\",\"q\":\"one\"}\n" +
            "{\"q\":\"two\",\"id\":2}\n" +
            "\n" +
            "{\"id\":\"\\u00e93\",\"q\":{\"nested\":[1,2]}}\n" +
            "{\"id\":4.5,\"q\":null}\n" +
            "{\"id\":\"a5\",\"id\":\"second\",\"q\":\"duplicate key\"}\n",
            s_utf8NoBom);
        Sample[] full = DatasetReader.Read(path).ToArray();

        Sample[] passed = DatasetReader.Read(path, needsFields: id => id == "2").ToArray();

        Assert.Equal(full.Select(s => (s.Id, s.RowNumber)), passed.Select(s => (s.Id, s.RowNumber)));
        Assert.Equal(new[] { "a1", "2", "é3", "4.5", "a5" }, passed.Select(s => s.Id).ToArray());
        Assert.Equal(full[1].Fields, passed[1].Fields);
        Assert.Equal(2, passed[0].Fields.Count);
        Assert.All(passed.Skip(2), s => Assert.Empty(s.Fields));
    }

    [Fact]
    public void AnEmptyIdIsAnErrorAlsoInARowThatNeedsNoFields()
    {
        using var dir = new TestDirectory();
        string path = dir.File("data.csv");
        File.WriteAllText(path, "id,question\na1,one\n ,two\n", s_utf8NoBom);

        var error = Assert.Throws<DatasetException>(() => DatasetReader.Read(path, needsFields: _ => false).ToArray());
        Assert.Equal(ErrorIds.EmptySampleId, error.ErrorId);
        Assert.Equal(2, error.RowNumber);
    }

    [Fact]
    public void CsvWithAUtf8BomAndNonAsciiTextReadsTheIdColumnAndTheTextIntact()
    {
        using var dir = new TestDirectory();
        string path = dir.File("bom.csv");
        const string Text = "Janet’s ducks — ünïcödé, 数学 🙂";
        File.WriteAllText(path, "id,text\nq1,\"" + Text + "\"\nq2,Ωmega\n", new UTF8Encoding(true));
        Assert.Equal(new byte[] { 0xEF, 0xBB, 0xBF }, File.ReadAllBytes(path).Take(3).ToArray());

        Sample[] samples = DatasetReader.Read(path).ToArray();

        // The BOM must not end up in the first header: "id" is found, so the ids are not derived.
        Assert.Equal("id", samples[0].Fields[0].Key);
        Assert.Equal(new[] { "q1", "q2" }, samples.Select(s => s.Id).ToArray());
        Assert.Equal(Text, Field(samples[0], "text"));
        Assert.Equal("Ωmega", Field(samples[1], "text"));
        Assert.False(DatasetReader.Scan(path).DerivedIds);
    }

    [Fact]
    public void CsvValuesAreStrings()
    {
        using var dir = new TestDirectory();
        string path = dir.File("types.csv");
        File.WriteAllText(path, "id,n,flag\n7,42,true\n", s_utf8NoBom);

        Sample sample = Assert.Single(DatasetReader.Read(path));

        Assert.Equal("7", sample.Id);
        Assert.Equal("42", Assert.IsType<string>(Field(sample, "n")));
        Assert.Equal("true", Assert.IsType<string>(Field(sample, "flag")));
    }

    // ---- JSONL parsing -----------------------------------------------------------------------------------

    [Fact]
    public void JsonlRowsKeepScalarsAndNestedValues()
    {
        using var dir = new TestDirectory();
        string path = dir.File("data.jsonl");
        File.WriteAllText(
            path,
            "{\"id\":\"x1\",\"n\":3,\"f\":2.5,\"ok\":true,\"none\":null,\"meta\":{\"tags\":[\"a\",\"b\"],\"depth\":{\"k\":1}},\"list\":[1,[2,3]]}\n" +
            "\n" +
            "{\"id\":\"x2\",\"text\":\"naïve \\u00e9 \\\"quoted\\\"\\nnext\"}\n",
            s_utf8NoBom);

        Sample[] samples = DatasetReader.Read(path).ToArray();

        Assert.Equal(new[] { "x1", "x2" }, samples.Select(s => s.Id).ToArray());
        Assert.Equal(new long[] { 1, 3 }, samples.Select(s => s.RowNumber).ToArray());
        Sample first = samples[0];
        Assert.Equal(new[] { "id", "n", "f", "ok", "none", "meta", "list" }, first.Fields.Select(f => f.Key).ToArray());
        Assert.Equal(3L, Assert.IsType<long>(Field(first, "n")));
        Assert.Equal(2.5, Assert.IsType<double>(Field(first, "f")));
        Assert.Equal(true, Field(first, "ok"));
        Assert.Null(Field(first, "none"));
        JsonElement meta = Assert.IsType<JsonElement>(Field(first, "meta"));
        Assert.Equal(JsonValueKind.Object, meta.ValueKind);
        Assert.Equal(new[] { "a", "b" }, meta.GetProperty("tags").EnumerateArray().Select(e => e.GetString()).ToArray());
        Assert.Equal(1, meta.GetProperty("depth").GetProperty("k").GetInt32());
        JsonElement list = Assert.IsType<JsonElement>(Field(first, "list"));
        Assert.Equal("[1,[2,3]]", list.GetRawText());
        Assert.Equal("naïve é \"quoted\"\nnext", Field(samples[1], "text"));
    }

    [Fact]
    public void JsonlWithAUtf8BomReadsTheFirstLine()
    {
        using var dir = new TestDirectory();
        string path = dir.File("bom.jsonl");
        File.WriteAllText(path, "{\"id\":\"é1\",\"q\":\"数学\"}\n{\"id\":\"é2\",\"q\":\"x\"}\n", new UTF8Encoding(true));

        Sample[] samples = DatasetReader.Read(path).ToArray();

        Assert.Equal(new[] { "é1", "é2" }, samples.Select(s => s.Id).ToArray());
        Assert.Equal("数学", Field(samples[0], "q"));
    }

    [Fact]
    public void NumericJsonlIdsBecomeTheirInvariantText()
    {
        using var dir = new TestDirectory();
        string path = dir.File("num.jsonl");
        File.WriteAllText(path, "{\"id\":10,\"q\":\"a\"}\n{\"id\":11,\"q\":\"b\"}\n", s_utf8NoBom);

        Assert.Equal(new[] { "10", "11" }, DatasetReader.Read(path).Select(s => s.Id).ToArray());
        Assert.False(DatasetReader.Scan(path).DerivedIds);
    }

    // ---- Id columns --------------------------------------------------------------------------------------

    [Fact]
    public void TheIdColumnIsFoundWhateverItsCase()
    {
        using var dir = new TestDirectory();
        string path = dir.File("upper.csv");
        File.WriteAllText(path, "question,ID\nwhat,k1\nwhy,k2\n", s_utf8NoBom);

        Assert.Equal(new[] { "k1", "k2" }, DatasetReader.Read(path).Select(s => s.Id).ToArray());
        Assert.False(DatasetReader.Scan(path).DerivedIds);
    }

    [Theory]
    [InlineData("qid")]
    [InlineData("QID")]
    [InlineData("Qid")]
    public void AnIdColumnNamedByTheCallerIsUsedMatchedWithoutCase(string idColumn)
    {
        using var dir = new TestDirectory();
        string csv = dir.File("named.csv");
        File.WriteAllText(csv, "id,qid,text\nsame,n1,a\nsame,n2,b\n", s_utf8NoBom);
        string jsonl = dir.File("named.jsonl");
        File.WriteAllText(jsonl, "{\"id\":\"same\",\"qid\":\"n1\"}\n{\"id\":\"same\",\"qid\":\"n2\"}\n", s_utf8NoBom);

        foreach (string path in new[] { csv, jsonl })
        {
            Assert.Equal(new[] { "n1", "n2" }, DatasetReader.Read(path, idColumn).Select(s => s.Id).ToArray());
            DatasetInfo info = DatasetReader.Scan(path, idColumn);
            Assert.Equal(2, info.RowCount);
            Assert.False(info.DerivedIds);

            // Without -IdColumn the 'id' column is used, and it repeats.
            Assert.Equal(ErrorIds.DuplicateSampleId, Assert.Throws<DatasetException>(() => DatasetReader.Scan(path)).ErrorId);
        }
    }

    [Theory]
    [InlineData("csv")]
    [InlineData("jsonl")]
    public void AMissingIdColumnIsAnErrorThatListsTheColumns(string format)
    {
        using var dir = new TestDirectory();
        string path = dir.File("data." + format);
        File.WriteAllText(
            path,
            format == "csv" ? "question,answer,source\nq,a,s\n" : "{\"question\":\"q\",\"answer\":\"a\",\"source\":\"s\"}\n",
            s_utf8NoBom);

        DatasetException e = Assert.Throws<DatasetException>(() => DatasetReader.Scan(path, "sample_no"));

        Assert.Equal(ErrorIds.IdColumnNotFound, e.ErrorId);
        Assert.Contains("'sample_no'", e.Message, StringComparison.Ordinal);
        Assert.Contains("question, answer, source", e.Message, StringComparison.Ordinal);
        Assert.Equal(Path.GetFullPath(path), e.Path);
        Assert.Equal(ErrorIds.IdColumnNotFound, Assert.Throws<DatasetException>(() => DatasetReader.Read(path, "sample_no").ToList()).ErrorId);
    }

    [Theory]
    [InlineData("csv", "id,q\nok,a\n,b\n", 2)]
    [InlineData("csv", "id,q\nok,a\n\"   \",b\n", 2)]
    [InlineData("jsonl", "{\"id\":\"ok\",\"q\":\"a\"}\n{\"id\":\"\",\"q\":\"b\"}\n", 2)]
    [InlineData("jsonl", "{\"id\":\"ok\",\"q\":\"a\"}\n{\"id\":null,\"q\":\"b\"}\n", 2)]
    [InlineData("jsonl", "{\"id\":\"ok\",\"q\":\"a\"}\n{\"q\":\"b\"}\n", 2)]
    public void AnEmptyOrMissingIdIsAnErrorWithItsRow(string format, string content, long row)
    {
        using var dir = new TestDirectory();
        string path = dir.File("data." + format);
        File.WriteAllText(path, content, s_utf8NoBom);

        DatasetException e = Assert.Throws<DatasetException>(() => DatasetReader.Scan(path));

        Assert.Equal(ErrorIds.EmptySampleId, e.ErrorId);
        Assert.Equal(row, e.RowNumber);
        Assert.Matches($"(row|line) {row} ", e.Message);
    }

    // ---- Derived ids -------------------------------------------------------------------------------------

    [Theory]
    [InlineData("csv")]
    [InlineData("jsonl")]
    public void WithoutAnIdColumnIdsAreDerivedFromContentAndSurviveReordering(string format)
    {
        using var dir = new TestDirectory();
        var rows = Enumerable.Range(1, 40).Select(i => (Question: $"Question {i}, with \"quotes\"\nand a newline", Answer: "#### " + i)).ToList();
        var random = new Random(20261128);
        var shuffled = rows.OrderBy(_ => random.Next()).ToList();
        Assert.NotEqual(rows.Select(r => r.Question), shuffled.Select(r => r.Question));

        string original = dir.File("original." + format);
        string reordered = dir.File("reordered." + format);
        WriteQa(original, format, rows);
        WriteQa(reordered, format, shuffled);

        Dictionary<string, string> a = DatasetReader.Read(original).ToDictionary(s => s.Id, s => (string)Field(s, "question")! + "|" + (string)Field(s, "answer")!);
        Dictionary<string, string> b = DatasetReader.Read(reordered).ToDictionary(s => s.Id, s => (string)Field(s, "question")! + "|" + (string)Field(s, "answer")!);

        Assert.Equal(rows.Count, a.Count);
        Assert.All(a.Keys, id => Assert.Matches("^r[0-9a-f]{16}$", id));
        Assert.Equal(a.OrderBy(p => p.Key, StringComparer.Ordinal), b.OrderBy(p => p.Key, StringComparer.Ordinal));

        // The file order differs, the ids of the first rows differ, but every id names the same content.
        Assert.NotEqual(DatasetReader.Read(original).First().Id, DatasetReader.Read(reordered).First().Id);
        DatasetInfo info = DatasetReader.Scan(reordered);
        Assert.True(info.DerivedIds);
        Assert.Equal(rows.Count, info.RowCount);
    }

    [Fact]
    public void DerivedIdsDependOnEveryFieldAndNotOnTheColumnOrderOfJsonl()
    {
        using var dir = new TestDirectory();
        string path = dir.File("d.jsonl");
        File.WriteAllText(
            path,
            "{\"q\":\"a\",\"n\":1}\n{\"n\":1,\"q\":\"a \"}\n{\"n\":2,\"q\":\"a\"}\n",
            s_utf8NoBom);
        string swapped = dir.File("swapped.jsonl");
        File.WriteAllText(swapped, "{\"n\":1,\"q\":\"a\"}\n", s_utf8NoBom);

        string[] ids = DatasetReader.Read(path).Select(s => s.Id).ToArray();

        Assert.Equal(3, ids.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(ids[0], Assert.Single(DatasetReader.Read(swapped)).Id);
    }

    [Theory]
    [InlineData("csv", "q,a\nsame,row\nother,row\nsame,row\n", 1, 3)]
    [InlineData("jsonl", "{\"q\":\"same\"}\n{\"q\":\"other\"}\n{\"q\":\"same\"}\n", 1, 3)]
    public void TwoIdenticalRowsWithoutAnIdColumnHaveTheSameDerivedIdAndAreRefused(string format, string content, long first, long second)
    {
        using var dir = new TestDirectory();
        string path = dir.File("dup." + format);
        File.WriteAllText(path, content, s_utf8NoBom);

        DatasetException e = Assert.Throws<DatasetException>(() => DatasetReader.Scan(path));

        Assert.Equal(ErrorIds.DuplicateSampleId, e.ErrorId);
        Assert.Equal(second, e.RowNumber);
        Assert.Contains($"rows {first} and {second}", e.Message, StringComparison.Ordinal);
        Assert.Matches("'r[0-9a-f]{16}'", e.Message);
    }

    // ---- Validation errors -------------------------------------------------------------------------------

    [Theory]
    [InlineData("csv", "id,q\nq1,a\nq2,b\nq3,c\nq2,d\n", 2, 4)]
    [InlineData("jsonl", "{\"id\":\"q1\"}\n{\"id\":\"q2\"}\n\n{\"id\":\"q3\"}\n{\"id\":\"q2\"}\n", 2, 5)]
    public void ADuplicateIdIsRefusedNamingTheIdAndBothRows(string format, string content, long first, long second)
    {
        using var dir = new TestDirectory();
        string path = dir.File("dup." + format);
        File.WriteAllText(path, content, s_utf8NoBom);

        DatasetException e = Assert.Throws<DatasetException>(() => DatasetReader.Scan(path));

        Assert.Equal(ErrorIds.DuplicateSampleId, e.ErrorId);
        Assert.Contains("'q2'", e.Message, StringComparison.Ordinal);
        Assert.Contains($"rows {first} and {second}", e.Message, StringComparison.Ordinal);
        Assert.Equal(second, e.RowNumber);
        Assert.Equal("q2", e.Target);
        Assert.Equal(Path.GetFullPath(path), e.Path);
    }

    [Theory]
    [InlineData("empty.csv", "")]
    [InlineData("header-only.csv", "id,question,answer\n")]
    [InlineData("header-only-no-newline.csv", "id,question,answer")]
    [InlineData("empty.jsonl", "")]
    [InlineData("blank-lines.jsonl", "\n  \n\n")]
    public void AFileWithoutRowsIsEmpty(string name, string content)
    {
        using var dir = new TestDirectory();
        string path = dir.File(name);
        File.WriteAllText(path, content, s_utf8NoBom);

        DatasetException e = Assert.Throws<DatasetException>(() => DatasetReader.Scan(path));

        Assert.Equal(ErrorIds.DatasetEmpty, e.ErrorId);
        Assert.Contains(Path.GetFullPath(path), e.Message, StringComparison.Ordinal);
        Assert.Empty(DatasetReader.Read(path));
    }

    [Fact]
    public void AMissingFileIsNotFound()
    {
        using var dir = new TestDirectory();
        string path = dir.File("nowhere.csv");

        DatasetException scan = Assert.Throws<DatasetException>(() => DatasetReader.Scan(path));
        DatasetException read = Assert.Throws<DatasetException>(() => DatasetReader.Read(path).ToList());

        Assert.Equal(ErrorIds.DatasetNotFound, scan.ErrorId);
        Assert.Equal(ErrorIds.DatasetNotFound, read.ErrorId);
        Assert.Equal(Path.GetFullPath(path), scan.Path);
        Assert.Contains("nowhere.csv", scan.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("data.txt")]
    [InlineData("data.json")]
    [InlineData("data.tsv")]
    [InlineData("data")]
    public void AnUnknownExtensionIsRefused(string name)
    {
        using var dir = new TestDirectory();
        string path = dir.File(name);
        File.WriteAllText(path, "id,q\n1,a\n", s_utf8NoBom);

        DatasetException scan = Assert.Throws<DatasetException>(() => DatasetReader.Scan(path));
        DatasetException read = Assert.Throws<DatasetException>(() => DatasetReader.Read(path).ToList());

        Assert.Equal(ErrorIds.DatasetFormatUnknown, scan.ErrorId);
        Assert.Equal(ErrorIds.DatasetFormatUnknown, read.ErrorId);
        Assert.Contains(name, scan.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UpperCaseAndNdjsonExtensionsAreKnown()
    {
        using var dir = new TestDirectory();
        string csv = dir.File("DATA.CSV");
        File.WriteAllText(csv, "id,q\n1,a\n", s_utf8NoBom);
        string ndjson = dir.File("data.ndjson");
        File.WriteAllText(ndjson, "{\"id\":\"1\"}\n{\"id\":\"2\"}\n", s_utf8NoBom);

        Assert.Equal(1, DatasetReader.Scan(csv).RowCount);
        Assert.Equal(2, DatasetReader.Scan(ndjson).RowCount);
    }

    [Theory]
    [InlineData("id,q\nq1,fine\nq2,\"never closed\nq3,more\n", 2)]
    [InlineData("id,q\nq1,fine\nq2,\"closed\"then more\nq3,c\n", 2)]
    [InlineData("id,q\nq1,fine\nq2,mid\"quote\nq3,c\n", 2)]
    [InlineData("id,q\nq1,a\nq2,b\nq3,\"unterminated", 3)]
    public void AnUnbalancedQuoteInCsvIsMalformedWithItsRow(string content, long row)
    {
        using var dir = new TestDirectory();
        string path = dir.File("bad.csv");
        File.WriteAllText(path, content, s_utf8NoBom);

        DatasetException e = Assert.Throws<DatasetException>(() => DatasetReader.Scan(path));

        Assert.Equal(ErrorIds.MalformedCsv, e.ErrorId);
        Assert.Equal(row, e.RowNumber);
        Assert.Contains("row " + row, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ACsvRowWithTooManyFieldsIsMalformedWithItsRow()
    {
        using var dir = new TestDirectory();
        string path = dir.File("wide.csv");
        File.WriteAllText(path, "id,q\nq1,a\nq2,b,extra\n", s_utf8NoBom);

        DatasetException e = Assert.Throws<DatasetException>(() => DatasetReader.Scan(path));

        Assert.Equal(ErrorIds.MalformedCsv, e.ErrorId);
        Assert.Equal(2, e.RowNumber);
        Assert.Contains("3 field(s) where the header has 2", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"id\":\"a\"}\n{\"id\":\"b\"}\nnot json at all\n", 3)]
    [InlineData("{\"id\":\"a\"}\n\n{\"id\":\"b\",\n", 3)]
    [InlineData("{\"id\":\"a\"} {\"id\":\"b\"}\n", 1)]
    [InlineData("{\"id\":\"a\"}\n{'id':'b'}\n", 2)]
    public void AJsonlLineThatIsNotJsonIsMalformedNamingItsLine(string content, long line)
    {
        using var dir = new TestDirectory();
        string path = dir.File("bad.jsonl");
        File.WriteAllText(path, content, s_utf8NoBom);

        DatasetException e = Assert.Throws<DatasetException>(() => DatasetReader.Scan(path));

        Assert.Equal(ErrorIds.MalformedJson, e.ErrorId);
        Assert.Equal(line, e.RowNumber);
        Assert.Contains("line " + line + " ", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[1,2,3]")]
    [InlineData("\"just a string\"")]
    [InlineData("42")]
    [InlineData("null")]
    public void AJsonlLineThatIsNotAnObjectIsMalformed(string second)
    {
        using var dir = new TestDirectory();
        string path = dir.File("array.jsonl");
        File.WriteAllText(path, "{\"id\":\"a\"}\n" + second + "\n", s_utf8NoBom);

        DatasetException e = Assert.Throws<DatasetException>(() => DatasetReader.Scan(path));

        Assert.Equal(ErrorIds.MalformedJson, e.ErrorId);
        Assert.Equal(2, e.RowNumber);
        Assert.Contains("line 2 is not a JSON object", e.Message, StringComparison.Ordinal);
    }

    // ---- Fingerprint -------------------------------------------------------------------------------------

    [Theory]
    [InlineData("csv")]
    [InlineData("jsonl")]
    public void TheFingerprintIsTheSizeTheSha256OfTheBytesAndTheRowCount(string format)
    {
        using var dir = new TestDirectory();
        string path = dir.File("fp." + format);
        string content = format == "csv"
            ? "\uFEFFid,q\nq1,\"multi\nline\"\nq2,é\n\n\n"
            : "{\"id\":\"q1\"}\n{\"id\":\"q2\",\"q\":\"é\"}\n\n\n";
        File.WriteAllBytes(path, Encoding.UTF8.GetBytes(content));
        byte[] bytes = File.ReadAllBytes(path);

        DatasetFingerprint fp = DatasetReader.Scan(path).Fingerprint;

        Assert.Equal(bytes.LongLength, fp.Size);
        Assert.Equal(Sha256Hex(bytes), fp.Sha256);
        Assert.Matches("^[0-9a-f]{64}$", fp.Sha256);
        Assert.Equal(2, fp.Rows);
        Assert.Null(fp.DescribeChangeFrom(DatasetReader.Scan(path).Fingerprint));
    }

    [Fact]
    public void TheFingerprintCoversBytesLargerThanTheReadBuffers()
    {
        using var dir = new TestDirectory();
        string path = dir.File("big.jsonl");
        var text = new StringBuilder();
        for (int i = 0; i < 3000; i++)
        {
            text.Append("{\"id\":\"s").Append(i).Append("\",\"pad\":\"").Append('x', 50 + (i % 97)).Append("\"}\n");
        }

        File.WriteAllText(path, text.ToString(), s_utf8NoBom);
        byte[] bytes = File.ReadAllBytes(path);
        Assert.True(bytes.Length > 3 * 65536);

        DatasetInfo info = DatasetReader.Scan(path);

        Assert.Equal(Sha256Hex(bytes), info.Fingerprint.Sha256);
        Assert.Equal(bytes.LongLength, info.Fingerprint.Size);
        Assert.Equal(3000, info.RowCount);
    }

    [Fact]
    public void AppendingARowChangesTheFingerprintAndTheChangeIsDescribed()
    {
        using var dir = new TestDirectory();
        string path = dir.File("grow.csv");
        File.WriteAllText(path, "id,q\nq1,a\nq2,b\n", s_utf8NoBom);
        DatasetFingerprint before = DatasetReader.Scan(path).Fingerprint;

        File.AppendAllText(path, "q3,c\n", s_utf8NoBom);
        DatasetFingerprint after = DatasetReader.Scan(path).Fingerprint;

        Assert.Equal(before.Size + 5, after.Size);
        Assert.Equal(3, after.Rows);
        Assert.NotEqual(before.Sha256, after.Sha256);
        Assert.Equal(Sha256Hex(File.ReadAllBytes(path)), after.Sha256);
        string? change = after.DescribeChangeFrom(before);
        Assert.Equal(
            $"size {before.Size} -> {after.Size} bytes, rows 2 -> 3, content hash {before.Sha256.Substring(0, 12)} -> {after.Sha256.Substring(0, 12)}",
            change);
        Assert.Null(after.DescribeChangeFrom(after));
    }

    [Fact]
    public void AnEditThatKeepsSizeAndRowsIsStillAChangeOfContent()
    {
        using var dir = new TestDirectory();
        string path = dir.File("edit.csv");
        File.WriteAllText(path, "id,q\nq1,a\nq2,b\n", s_utf8NoBom);
        DatasetFingerprint before = DatasetReader.Scan(path).Fingerprint;
        File.WriteAllText(path, "id,q\nq1,a\nq2,c\n", s_utf8NoBom);
        DatasetFingerprint after = DatasetReader.Scan(path).Fingerprint;

        Assert.Equal(before.Size, after.Size);
        Assert.Equal("content hash " + before.Sha256.Substring(0, 12) + " -> " + after.Sha256.Substring(0, 12), after.DescribeChangeFrom(before));
    }

    [Fact]
    public void IncludedCountCountsTheRowsTheFilterAccepts()
    {
        using var dir = new TestDirectory();
        string path = dir.File("f.csv");
        File.WriteAllText(path, "id,q\nq1,a\nq2,b\nq3,c\nq4,d\nq5,e\n", s_utf8NoBom);

        DatasetInfo info = DatasetReader.Scan(path, null, id => id == "q2" || id == "q5");

        Assert.Equal(5, info.RowCount);
        Assert.Equal(2, info.IncludedCount);
    }

    // ---- Shared GSM8K data -------------------------------------------------------------------------------

    [SharedDataFact]
    public void Gsm8kCsvHas1319RowsWithIdsQ1ToQ1319InOrder()
    {
        string path = SharedData.Csv!;

        DatasetInfo info = DatasetReader.Scan(path);
        Sample[] samples = DatasetReader.Read(path).ToArray();

        Assert.Equal(1319, info.RowCount);
        Assert.False(info.DerivedIds);
        Assert.Equal(Enumerable.Range(1, 1319).Select(i => "q" + i).ToArray(), samples.Select(s => s.Id).ToArray());
        Assert.Equal(Enumerable.Range(1, 1319).Select(i => (long)i).ToArray(), samples.Select(s => s.RowNumber).ToArray());
        Assert.All(samples, s => Assert.Equal(new[] { "id", "question", "answer" }, s.Fields.Select(f => f.Key).ToArray()));

        string answer = (string)Field(samples[0], "answer")!;
        Assert.Equal(
            "Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 duck eggs a day.\nShe makes 9 * 2 = $<<9*2=18>>18 every day at the farmer’s market.\n#### 18",
            answer);
        Assert.StartsWith("Janet’s ducks lay 16 eggs per day.", (string)Field(samples[0], "question")!, StringComparison.Ordinal);
        Assert.All(samples, s => Assert.Matches(new Regex(@"\n#### -?[0-9][0-9,.]*$"), (string)Field(s, "answer")!));

        byte[] bytes = File.ReadAllBytes(path);
        Assert.Equal(Sha256Hex(bytes), info.Fingerprint.Sha256);
        Assert.Equal(bytes.LongLength, info.Fingerprint.Size);
    }

    [SharedDataFact]
    public void Gsm8kJsonlHas1319UniqueDerivedIds()
    {
        string path = SharedData.Jsonl!;

        DatasetInfo info = DatasetReader.Scan(path);
        Sample[] samples = DatasetReader.Read(path).ToArray();

        Assert.Equal(1319, info.RowCount);
        Assert.True(info.DerivedIds);
        Assert.Equal(1319, samples.Length);
        Assert.Equal(1319, samples.Select(s => s.Id).Distinct(StringComparer.Ordinal).Count());
        Assert.All(samples, s => Assert.Matches("^r[0-9a-f]{16}$", s.Id));
        Assert.All(samples, s => Assert.Equal(new[] { "question", "answer" }, s.Fields.Select(f => f.Key).ToArray()));
        Assert.Equal(samples.Select(s => s.Id), DatasetReader.Read(path).Select(s => s.Id));
        Assert.Equal(Sha256Hex(File.ReadAllBytes(path)), info.Fingerprint.Sha256);
    }

    [SharedDataFact]
    public void Gsm8kCsvAndJsonlHoldTheSameTextRowByRow()
    {
        Sample[] csv = DatasetReader.Read(SharedData.Csv!).ToArray();
        Sample[] jsonl = DatasetReader.Read(SharedData.Jsonl!).ToArray();

        Assert.Equal(csv.Length, jsonl.Length);
        for (int i = 0; i < csv.Length; i++)
        {
            Assert.True(
                (string?)Field(csv[i], "question") == (string?)Field(jsonl[i], "question"),
                $"row {i + 1}: the CSV question differs from the JSONL question");
            Assert.True(
                (string?)Field(csv[i], "answer") == (string?)Field(jsonl[i], "answer"),
                $"row {i + 1}: the CSV answer differs from the JSONL answer");
        }
    }

    // ---- Helpers -----------------------------------------------------------------------------------------

    /// <summary>What a scan found (counts, derived ids, fingerprint), or the error.</summary>
    internal static string ScanOutcome(Func<DatasetInfo> scan)
    {
        try
        {
            DatasetInfo info = scan();
            return $"{info.RowCount} {info.IncludedCount} {info.DerivedIds} {info.Fingerprint.Size} {info.Fingerprint.Sha256}";
        }
        catch (DatasetException e)
        {
            return $"{e.ErrorId} {e.RowNumber} {e.Message}";
        }
    }

    private static object? Field(Sample sample, string name) => sample.Fields.Single(f => f.Key == name).Value;

    internal static string Sha256Hex(byte[] bytes)
    {
        using SHA256 sha = SHA256.Create();
        return string.Concat(sha.ComputeHash(bytes).Select(b => b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)));
    }

    private static void WriteQa(string path, string format, IEnumerable<(string Question, string Answer)> rows)
    {
        var text = new StringBuilder();
        if (format == "csv")
        {
            text.Append("question,answer\n");
            foreach ((string q, string a) in rows)
            {
                text.Append('"').Append(q.Replace("\"", "\"\"", StringComparison.Ordinal)).Append("\",\"").Append(a.Replace("\"", "\"\"", StringComparison.Ordinal)).Append("\"\n");
            }
        }
        else
        {
            foreach ((string q, string a) in rows)
            {
                text.Append(JsonSerializer.Serialize(new Dictionary<string, string> { ["question"] = q, ["answer"] = a })).Append('\n');
            }
        }

        File.WriteAllText(path, text.ToString(), s_utf8NoBom);
    }
}
