using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using Checkpoint.Datasets;
using Xunit;

namespace Checkpoint.Tests;

/// <summary>
/// Runs and scans read a CSV with CsvRowReader (a resume's done rows and a scan's rows by id alone, the others
/// whole) and hand the rest to CsvHelper from the first row the skipper does not find plain. Whatever the file
/// holds, what comes out must be what CsvHelper alone reads: these tests compare the two on random files with quoted fields, line breaks
/// in fields, doubled quotes, CRLF, blank lines and byte order marks.
/// </summary>
public sealed class CsvRowReaderTests
{
    public static IEnumerable<object[]> Seeds() => Enumerable.Range(1, 40).Select(seed => new object[] { seed });

    [Theory]
    [MemberData(nameof(Seeds))]
    public void PassingDoneRowsReadsWhatCsvHelperReads(int seed)
    {
        var random = new Random(seed);
        using var dir = new TestDirectory();
        string path = dir.File("data.csv");
        File.WriteAllBytes(path, RandomCsv(random, out int rows));
        Sample[] all = DatasetReader.Read(path, null, null, fastReaders: false).ToArray();
        Assert.Equal(rows, all.Length);
        Sample[] whole = DatasetReader.Read(path).ToArray();
        Assert.Equal(all.Select(s => (s.Id, s.RowNumber)), whole.Select(s => (s.Id, s.RowNumber)));
        for (int i = 0; i < all.Length; i++)
        {
            Assert.Equal(all[i].Fields, whole[i].Fields);
        }

        foreach (string pattern in new[] { "none", "all", "some", "last" })
        {
            var wanted = new HashSet<string>(pattern switch
            {
                "none" => Array.Empty<string>(),
                "all" => all.Select(s => s.Id),
                "some" => all.Where(_ => random.Next(5) == 0).Select(s => s.Id),
                _ => new[] { all[all.Length - 1].Id },
            });

            Sample[] passed = DatasetReader.Read(path, needsFields: wanted.Contains).ToArray();
            Sample[] reference = DatasetReader.Read(path, null, wanted.Contains, fastReaders: false).ToArray();
            Assert.Equal(reference.Select(s => (s.Id, s.RowNumber, s.Fields.Count)), passed.Select(s => (s.Id, s.RowNumber, s.Fields.Count)));

            Assert.Equal(all.Select(s => (s.Id, s.RowNumber)), passed.Select(s => (s.Id, s.RowNumber)));
            for (int i = 0; i < all.Length; i++)
            {
                if (wanted.Contains(all[i].Id))
                {
                    Assert.Equal(all[i].Fields, passed[i].Fields);
                }
                else
                {
                    Assert.Empty(passed[i].Fields);
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void ScanningWithTheSkipperFindsWhatCsvHelperFinds(int seed)
    {
        var random = new Random(seed);
        using var dir = new TestDirectory();
        string path = dir.File("data.csv");
        byte[] bytes = RandomCsv(random, out int rows);
        File.WriteAllBytes(path, bytes);
        Func<string, bool> shard = id => (id.Length + id[id.Length - 1]) % 3 == 0;

        DatasetInfo scanned = DatasetReader.Scan(path, null, shard);

        Assert.Equal(DatasetReaderTests.ScanOutcome(() => DatasetReader.Scan(path, null, shard, fastReaders: false)), DatasetReaderTests.ScanOutcome(() => scanned));
        Assert.Equal(rows, scanned.RowCount);
        Assert.Equal(DatasetReaderTests.Sha256Hex(bytes), scanned.Fingerprint.Sha256);
    }

    [Theory]
    [InlineData("id,q\na1,x\na2,y\na3,\"bad\"quote\na4,z\n")]
    [InlineData("id,q\na1,x\na2,y\na3,x,extra\na4,z\n")]
    [InlineData("id,q\na1,x\na2,y\n  ,z\n")]
    [InlineData("id,q\na1,x\na2,y\na3,\"never closed\n")]
    [InlineData("id,q\na1,x\na2,\"two\nlines\"\na3,un\"quoted\n")]
    [InlineData("id,q\na1,x\ra2,y\n")]
    [InlineData("id,q\na1,x\n\"\"\n\na2,y\n")]
    [InlineData("id,q\na1,x\na2,y\n\na1,z\n")]
    [InlineData("id,q\na1,x\n\na2,y\na2,z\n\n\n")]
    [InlineData("q,text\na1,x\na2,y\n")]
    [InlineData("id,q\n")]
    [InlineData("")]
    public void OddInputReadsAndScansAsCsvHelperReadsIt(string content)
    {
        using var dir = new TestDirectory();
        string path = dir.File("data.csv");
        File.WriteAllText(path, content, new UTF8Encoding(false));

        Assert.Equal(DatasetReaderTests.ScanOutcome(() => DatasetReader.Scan(path, null, null, fastReaders: false)), DatasetReaderTests.ScanOutcome(() => DatasetReader.Scan(path)));
        foreach (Func<string, bool>? needsFields in new Func<string, bool>?[] { null, _ => false, _ => true, id => id != "a1", id => id == "a3" })
        {
            Assert.Equal(Outcome(() => DatasetReader.Read(path, null, needsFields, fastReaders: false)), Outcome(() => DatasetReader.Read(path, needsFields: needsFields)));
        }
    }

    [Fact]
    public void AHeaderTheSkipperTurnsDownAfterARefillIsHashedOnce()
    {
        // A byte order mark, then a header longer than the skipper's buffer that ends in a lone carriage return:
        // the skipper has hashed the mark when it turns the header down, and CsvHelper reads from the top.
        using var dir = new TestDirectory();
        string path = dir.File("data.csv");
        File.WriteAllText(path, "\uFEFFid," + new string('n', 70_000) + "\rq1,x\nq2,x\n", new UTF8Encoding(false));

        DatasetInfo scanned = DatasetReader.Scan(path);

        Assert.Equal(2, scanned.RowCount);
        Assert.Equal(DatasetReaderTests.Sha256Hex(File.ReadAllBytes(path)), scanned.Fingerprint.Sha256);
        Assert.Equal(DatasetReaderTests.ScanOutcome(() => DatasetReader.Scan(path, null, null, fastReaders: false)), DatasetReaderTests.ScanOutcome(() => scanned));
    }

    [Fact]
    public void ScanningAFileLargerThanTheBufferHashesEveryByteOnce()
    {
        // A row longer than the skipper's buffer, many buffers of short rows, a blank line (CsvHelper reads on
        // from there), then a row CsvHelper turns down.
        var random = new Random(7);
        var text = new StringBuilder("id,q\n");
        text.Append("a0,\"").Append('x', 200_000).Append("\nsecond line\"\n");
        for (int row = 1; row < 20_000; row++)
        {
            text.Append('a').Append(row).Append(',').Append(Field(random, "\n")).Append('\n');
            if (row == 15_000)
            {
                text.Append('\n');
            }
        }

        text.Append("b1,\"odd\"quote\nb2,z\n");
        using var dir = new TestDirectory();
        string path = dir.File("data.csv");
        File.WriteAllText(path, text.ToString(), new UTF8Encoding(false));
        string odd = DatasetReaderTests.ScanOutcome(() => DatasetReader.Scan(path));
        Assert.Equal(DatasetReaderTests.ScanOutcome(() => DatasetReader.Scan(path, null, null, fastReaders: false)), odd);
        Assert.StartsWith(ErrorIds.MalformedCsv + " 20001 ", odd);

        text.Replace("\"odd\"quote", "plain");
        File.WriteAllText(path, text.ToString(), new UTF8Encoding(false));
        DatasetInfo plain = DatasetReader.Scan(path);
        Assert.Equal(DatasetReaderTests.ScanOutcome(() => DatasetReader.Scan(path, null, null, fastReaders: false)), DatasetReaderTests.ScanOutcome(() => plain));
        Assert.Equal(20_002, plain.RowCount);
        Assert.Equal(DatasetReaderTests.Sha256Hex(File.ReadAllBytes(path)), plain.Fingerprint.Sha256);
    }

    // The ids and row numbers read (with the fields of rows read with them), or the error.
    private static string Outcome(Func<IEnumerable<Sample>> read)
    {
        try
        {
            return string.Join("|", read().Select(s => $"{s.Id}@{s.RowNumber}:{string.Join(",", s.Fields.Select(f => f.Value))}"));
        }
        catch (DatasetException e)
        {
            return $"{e.ErrorId} {e.RowNumber} {e.Message}";
        }
    }

    [Fact]
    public void ARowLongerThanTheBufferIsPassedWhole()
    {
        using var dir = new TestDirectory();
        string path = dir.File("data.csv");
        string longText = new string('x', 300_000);
        File.WriteAllText(path, $"id,q\na1,\"{longText}\"\na2,\"{longText}\nsecond line\"\na3,last\n", new UTF8Encoding(false));

        Sample[] passed = DatasetReader.Read(path, needsFields: id => id == "a3").ToArray();

        Assert.Equal(new[] { "a1", "a2", "a3" }, passed.Select(s => s.Id));
        Assert.Equal("last", passed[2].Fields[1].Value);
    }

    private static byte[] RandomCsv(Random random, out int rows)
    {
        string newline = random.Next(2) == 0 ? "\n" : "\r\n";
        int idAt = random.Next(3);
        var names = new List<string> { "question", random.Next(4) == 0 ? "\"answer, final\"" : "answer" };
        names.Insert(idAt, random.Next(4) == 0 ? "\"id\"" : "id");
        var text = new StringBuilder(string.Join(",", names)).Append(newline);
        rows = random.Next(1, 60);
        for (int row = 0; row < rows; row++)
        {
            if (random.Next(10) == 0)
            {
                text.Append(newline);
            }

            var fields = new List<string> { Field(random, newline), Field(random, newline) };
            fields.Insert(idAt, Id(random, row));
            text.Append(string.Join(",", fields));
            if (row < rows - 1 || random.Next(2) == 0)
            {
                text.Append(newline);
            }
        }

        byte[] bytes = Encoding.UTF8.GetBytes(text.ToString());
        return random.Next(3) == 0 ? new byte[] { 0xEF, 0xBB, 0xBF }.Concat(bytes).ToArray() : bytes;
    }

    private static string Id(Random random, int row) => random.Next(4) switch
    {
        0 => $"\"q{row}\"",
        1 => $"\"q\"\"{row}\"",
        2 => $"é{row}",
        _ => $"q{row}",
    };

    private static string Field(Random random, string newline) => random.Next(8) switch
    {
        7 => " padded ",
        0 => string.Empty,
        1 => "\"\"",
        2 => "\"with, comma\"",
        3 => $"\"two{newline}lines\"",
        4 => "\"say \"\"hi\"\"\"",
        5 => "ünïcödé text",
        _ => "plain " + random.Next(1000),
    };
}
