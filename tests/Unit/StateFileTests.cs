using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using Checkpoint.Datasets;
using Checkpoint.IO;
using Checkpoint.Store;
using Xunit;

namespace Checkpoint.Tests;

public sealed class StateFileTests
{
    private static RunState FullState() => new()
    {
        FormatVersion = RunState.CurrentFormatVersion,
        ModuleVersion = "9.8.7",
        RunId = "20261128_gsm8k-test_gpt-4o_0123abcd",
        Shard = "2/4",
        DatasetPath = "/data/ünï \"quoted\" 数学\\gsm8k-test.csv",
        DatasetFingerprint = new DatasetFingerprint(1_234_567_890_123L, new string('a', 32) + new string('f', 32), 1319),
        IdColumn = "qid",
        Model = "gpt-4o",
        ConfigJson = "{\"max_tokens\":512,\"nested\":{\"a\":[1,2.5,\"x\",null,true]},\"temperature\":0.2}",
        ConfigHash = "0123abcd",
        Seed = 0,
        TotalSamples = 1319,
        CompletedSamples = 1200,
        FailedSamples = 19,
        ErrorCount = 77,
        Status = RunStatus.Interrupted,
        StartedAt = new DateTimeOffset(2026, 11, 27, 23, 59, 58, TimeSpan.FromHours(2)).AddTicks(1234567),
        LastCheckpoint = new DateTimeOffset(2026, 11, 28, 1, 2, 3, TimeSpan.Zero).AddTicks(7),
        Settings = new SortedDictionary<string, object?>(StringComparer.Ordinal)
        {
            ["max_retries"] = 3,
            ["rate"] = 1.5,
            ["dry"] = false,
            ["note"] = null,
            ["text"] = "ünï \"q\" \n line",
            ["list"] = new object?[] { 1, "two", null, true },
            ["resume"] = new Hashtable { ["b"] = new Dictionary<string, object?> { ["deep"] = 42 }, ["a"] = "x" },
        },
    };

    // ---- Round trip -------------------------------------------------------------------------------------

    [Fact]
    public void WriteThenReadRoundTripsEveryField()
    {
        using var dir = new TestDirectory();
        string path = dir.File("s_resume_state.json");
        RunState written = FullState();

        StateFile.Write(path, written);
        StateReadResult result = StateFile.Read(path);

        Assert.Equal(StateReadStatus.Valid, result.Status);
        Assert.Null(result.Problem);
        RunState read = Assert.IsType<RunState>(result.State);
        Assert.Equal(written.FormatVersion, read.FormatVersion);
        Assert.Equal("9.8.7", read.ModuleVersion);
        Assert.Equal(written.RunId, read.RunId);
        Assert.Equal("2/4", read.Shard);
        Assert.Equal(written.DatasetPath, read.DatasetPath);
        DatasetFingerprint fp = Assert.IsType<DatasetFingerprint>(read.DatasetFingerprint);
        Assert.Equal(1_234_567_890_123L, fp.Size);
        Assert.Equal(written.DatasetFingerprint!.Sha256, fp.Sha256);
        Assert.Equal(1319, fp.Rows);
        Assert.Null(fp.DescribeChangeFrom(written.DatasetFingerprint));
        Assert.Equal("qid", read.IdColumn);
        Assert.Equal("gpt-4o", read.Model);
        Assert.Equal(written.ConfigJson, read.ConfigJson);
        Assert.Equal("0123abcd", read.ConfigHash);
        Assert.Equal(0, read.Seed);
        Assert.Equal(1319, read.TotalSamples);
        Assert.Equal(1200, read.CompletedSamples);
        Assert.Equal(19, read.FailedSamples);
        Assert.Equal(77, read.ErrorCount);
        Assert.Equal(RunStatus.Interrupted, read.Status);
        Assert.Equal(written.StartedAt.UtcTicks, read.StartedAt.UtcTicks);
        Assert.Equal(written.LastCheckpoint.UtcTicks, read.LastCheckpoint.UtcTicks);

        Assert.Equal(new[] { "dry", "list", "max_retries", "note", "rate", "resume", "text" }, read.Settings.Keys.ToArray());
        Assert.Equal(3L, read.Settings["max_retries"]);
        Assert.Equal(1.5, read.Settings["rate"]);
        Assert.Equal(false, read.Settings["dry"]);
        Assert.Null(read.Settings["note"]);
        Assert.Equal("ünï \"q\" \n line", read.Settings["text"]);
        Assert.Equal(new object?[] { 1L, "two", null, true }, Assert.IsAssignableFrom<IEnumerable<object?>>(read.Settings["list"]).ToArray());
        var resume = Assert.IsAssignableFrom<IEnumerable<KeyValuePair<string, object?>>>(read.Settings["resume"]).ToList();
        Assert.Equal(new[] { "a", "b" }, resume.Select(p => p.Key).ToArray());
        Assert.Equal("x", resume[0].Value);
        KeyValuePair<string, object?> deep = Assert.Single(Assert.IsAssignableFrom<IEnumerable<KeyValuePair<string, object?>>>(resume[1].Value));
        Assert.Equal("deep", deep.Key);
        Assert.Equal(42L, deep.Value);

        // A state read back and written again gives the same bytes.
        byte[] first = File.ReadAllBytes(path);
        StateFile.Write(path, read);
        Assert.Equal(first, File.ReadAllBytes(path));
    }

    [Fact]
    public void NullOptionalFieldsRoundTripAsNull()
    {
        using var dir = new TestDirectory();
        string path = dir.File("s_resume_state.json");
        var written = new RunState { RunId = "20261128_d_m_0123abcd", Status = RunStatus.Completed, Seed = -5 };

        StateFile.Write(path, written);
        StateReadResult result = StateFile.Read(path);

        Assert.Equal(StateReadStatus.Valid, result.Status);
        RunState read = result.State!;
        Assert.Null(read.Shard);
        Assert.Null(read.DatasetPath);
        Assert.Null(read.DatasetFingerprint);
        Assert.Null(read.IdColumn);
        Assert.Null(read.Model);
        Assert.Null(read.ConfigJson);
        Assert.Null(read.ConfigHash);
        Assert.Empty(read.Settings);
        Assert.Equal(-5, read.Seed);
        Assert.Equal(RunStatus.Completed, read.Status);
        Assert.Equal(ThisAssembly.Version, read.ModuleVersion);
        Assert.Equal(RunState.CurrentFormatVersion, read.FormatVersion);
    }

    [Fact]
    public void TheFileIsValidJsonWithTheChecksumLastCoveringEverythingBefore()
    {
        using var dir = new TestDirectory();
        string path = dir.File("s_resume_state.json");
        StateFile.Write(path, FullState());
        byte[] bytes = File.ReadAllBytes(path);

        using JsonDocument document = JsonDocument.Parse(bytes);
        var names = document.RootElement.EnumerateObject().Select(p => p.Name).ToList();

        Assert.Equal(
            new[] { "format_version", "module_version", "run_id", "shard", "dataset", "model", "config", "config_hash", "seed", "counters", "status", "started_at", "last_checkpoint", "settings", "checksum" },
            names);
        string checksum = document.RootElement.GetProperty("checksum").GetString()!;
        Assert.Matches("^[0-9a-f]{8}$", checksum);
        Assert.Equal(0, document.RootElement.GetProperty("seed").GetInt32());
        Assert.Equal("Interrupted", document.RootElement.GetProperty("status").GetString());
        Assert.Equal(1319, document.RootElement.GetProperty("dataset").GetProperty("rows").GetInt32());
        Assert.Equal(1200, document.RootElement.GetProperty("counters").GetProperty("completed_samples").GetInt32());

        string text = Encoding.UTF8.GetString(bytes);
        Assert.Contains("\"seed\": 0", text, StringComparison.Ordinal);
        Assert.Contains("ünï", text, StringComparison.Ordinal);
        Assert.EndsWith("\"checksum\": \"" + checksum + "\"\n}\n", text, StringComparison.Ordinal);
        int comma = text.LastIndexOf(",\n  \"checksum\"", StringComparison.Ordinal);
        Assert.True(comma > 0);
        Assert.Equal(checksum, Crc32C.Compute(bytes.AsSpan(0, Encoding.UTF8.GetByteCount(text.Substring(0, comma)))).ToString("x8", System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(bytes, StateFile.Serialize(FullState()));
    }

    [Fact]
    public void WriteReplacesTheFileAndLeavesNoTempFile()
    {
        using var dir = new TestDirectory();
        string path = dir.File("s_resume_state.json");
        RunState state = FullState();

        StateFile.Write(path, state);
        state.CompletedSamples = 1319;
        state.Status = RunStatus.Completed;
        StateFile.Write(path, state);

        Assert.Equal(new[] { path }, Directory.GetFiles(dir.Path));
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp-*"));
        StateReadResult result = StateFile.Read(path);
        Assert.Equal(StateReadStatus.Valid, result.Status);
        Assert.Equal(1319, result.State!.CompletedSamples);
        Assert.Equal(RunStatus.Completed, result.State.Status);
    }

    // ---- Missing, damaged, changed ----------------------------------------------------------------------

    [Fact]
    public void AMissingFileIsMissing()
    {
        using var dir = new TestDirectory();

        StateReadResult result = StateFile.Read(dir.File("none_resume_state.json"));
        StateReadResult noDirectory = StateFile.Read(Path.Combine(dir.Path, "no", "such", "dir", "x_resume_state.json"));

        Assert.Equal(StateReadStatus.Missing, result.Status);
        Assert.Null(result.State);
        Assert.False(string.IsNullOrEmpty(result.Problem));
        Assert.Equal(StateReadStatus.Missing, noDirectory.Status);
        Assert.Null(noDirectory.State);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   \n")]
    [InlineData("not json at all")]
    [InlineData("{")]
    [InlineData("{}")]
    [InlineData("[]")]
    [InlineData("null")]
    [InlineData("42")]
    [InlineData("\"checksum\"")]
    [InlineData("{\"checksum\": \"00000000\"}")]
    [InlineData("{\"format_version\": 1, \"run_")]
    public void GarbageIsDamaged(string content)
    {
        using var dir = new TestDirectory();
        string path = dir.File("g_resume_state.json");
        File.WriteAllText(path, content);

        StateReadResult result = StateFile.Read(path);

        Assert.Equal(StateReadStatus.Damaged, result.Status);
        Assert.Null(result.State);
        Assert.StartsWith("the state file is not valid", result.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void RandomBytesAreDamagedAndNeverThrow()
    {
        using var dir = new TestDirectory();
        string path = dir.File("r_resume_state.json");
        var random = new Random(42);
        for (int i = 0; i < 200; i++)
        {
            byte[] bytes = new byte[random.Next(0, 600)];
            random.NextBytes(bytes);
            File.WriteAllBytes(path, bytes);

            StateReadResult result = StateFile.Read(path);

            Assert.Equal(StateReadStatus.Damaged, result.Status);
        }
    }

    [Theory]
    [InlineData("\"seed\": 0", "\"seed\": \"zero\"")]
    [InlineData("\"seed\": 0", "\"seed\": 99999999999")]
    [InlineData("\"seed\": 0", "\"seed\": 0.5")]
    [InlineData("\"status\": \"Interrupted\"", "\"status\": \"Exploded\"")]
    [InlineData("\"status\": \"Interrupted\"", "\"status\": 7")]
    [InlineData("\"started_at\": \"", "\"started_at\": \"yesterday")]
    [InlineData("\"counters\": {", "\"counters\": 5, \"x\": {")]
    [InlineData("\"rows\": 1319", "\"rows\": \"many\"")]
    [InlineData("\"dataset\": {", "\"dataset\": null, \"x\": {")]
    [InlineData("\"checksum\": \"", "\"checksum\": 12, \"y\": \"")]
    public void WellFormedJsonWithWrongTypesIsDamagedAndNeverThrows(string find, string replace)
    {
        using var dir = new TestDirectory();
        string path = dir.File("t_resume_state.json");
        StateFile.Write(path, FullState());
        string text = File.ReadAllText(path);
        Assert.Contains(find, text, StringComparison.Ordinal);
        string edited = ReplaceFirst(text, find, replace);
        File.WriteAllText(path, edited);

        StateReadResult result = StateFile.Read(path);

        Assert.Equal(StateReadStatus.Damaged, result.Status);
        Assert.Null(result.State);
    }

    [Fact]
    public void EveryTruncationIsDamagedOrChangedAndNeverThrows()
    {
        using var dir = new TestDirectory();
        string whole = dir.File("whole_resume_state.json");
        StateFile.Write(whole, FullState());
        byte[] bytes = File.ReadAllBytes(whole);
        int closingBrace = Array.LastIndexOf(bytes, (byte)'}');
        Assert.Equal(bytes.Length - 2, closingBrace);
        string path = dir.File("cut_resume_state.json");

        for (int length = 0; length < bytes.Length; length++)
        {
            File.WriteAllBytes(path, bytes.AsSpan(0, length).ToArray());

            StateReadResult result = StateFile.Read(path);

            if (length > closingBrace)
            {
                // Only the final newline is missing: the content is whole.
                Assert.Equal(StateReadStatus.Valid, result.Status);
                Assert.Equal(1200, result.State!.CompletedSamples);
            }
            else
            {
                Assert.True(
                    result.Status is StateReadStatus.Damaged or StateReadStatus.ChangedOutside,
                    $"a file cut to {length} of {bytes.Length} bytes reads as {result.Status}");
                Assert.False(string.IsNullOrEmpty(result.Problem));
            }
        }

        Assert.Equal(StateReadStatus.Valid, StateFile.Read(whole).Status);
    }

    [Fact]
    public void AnEditedValueIsChangedOutsideWithTheStateParsed()
    {
        using var dir = new TestDirectory();
        string path = dir.File("e_resume_state.json");
        StateFile.Write(path, FullState());
        string text = File.ReadAllText(path);
        Assert.Contains("\"seed\": 0,", text, StringComparison.Ordinal);
        File.WriteAllText(path, ReplaceFirst(text, "\"seed\": 0,", "\"seed\": 1,"), new UTF8Encoding(false));

        StateReadResult result = StateFile.Read(path);

        Assert.Equal(StateReadStatus.ChangedOutside, result.Status);
        Assert.Contains("changed outside", result.Problem, StringComparison.Ordinal);
        RunState state = Assert.IsType<RunState>(result.State);
        Assert.Equal(1, state.Seed);
        Assert.Equal(1200, state.CompletedSamples);
        Assert.Equal("20261128_gsm8k-test_gpt-4o_0123abcd", state.RunId);
    }

    [Theory]
    [InlineData("checksum-value")]
    [InlineData("checksum-removed")]
    [InlineData("whitespace-in-body")]
    [InlineData("property-added")]
    [InlineData("checksum-not-last")]
    public void OtherEditsAreChangedOutside(string edit)
    {
        using var dir = new TestDirectory();
        string path = dir.File("o_resume_state.json");
        StateFile.Write(path, FullState());
        string text = File.ReadAllText(path);
        string checksum = JsonDocument.Parse(text).RootElement.GetProperty("checksum").GetString()!;
        string edited = edit switch
        {
            "checksum-value" => text.Replace(checksum, checksum == "00000000" ? "00000001" : "00000000", StringComparison.Ordinal),
            "checksum-removed" => ReplaceFirst(text, ",\n  \"checksum\": \"" + checksum + "\"", string.Empty),
            "whitespace-in-body" => ReplaceFirst(text, "\"seed\": 0", "\"seed\":  0"),
            "property-added" => ReplaceFirst(text, "\"seed\": 0,", "\"seed\": 0, \"extra\": true,"),
            _ => ReplaceFirst(text, ",\n  \"checksum\": \"" + checksum + "\"", string.Empty).Replace("{\n", "{\n  \"checksum\": \"" + checksum + "\",\n", StringComparison.Ordinal),
        };
        Assert.NotEqual(text, edited);
        File.WriteAllText(path, edited, new UTF8Encoding(false));

        StateReadResult result = StateFile.Read(path);

        Assert.Equal(StateReadStatus.ChangedOutside, result.Status);
        Assert.Equal(1200, result.State!.CompletedSamples);
    }

    [Fact]
    public void EverySingleBitFlipBeforeTheChecksumIsDetected()
    {
        using var dir = new TestDirectory();
        string path = dir.File("f_resume_state.json");
        StateFile.Write(path, FullState());
        byte[] original = File.ReadAllBytes(path);
        int comma = Encoding.UTF8.GetString(original).LastIndexOf(",\n  \"checksum\"", StringComparison.Ordinal);
        Assert.True(comma > 0);
        int end = Encoding.UTF8.GetByteCount(Encoding.UTF8.GetString(original).Substring(0, comma));

        int checkedFlips = 0;
        for (int position = 0; position < end; position++)
        {
            for (int bit = 0; bit < 8; bit++)
            {
                byte[] copy = (byte[])original.Clone();
                copy[position] ^= (byte)(1 << bit);
                File.WriteAllBytes(path, copy);

                StateReadResult result = StateFile.Read(path);

                Assert.True(
                    result.Status is StateReadStatus.Damaged or StateReadStatus.ChangedOutside,
                    $"flipping bit {bit} of byte {position} gave {result.Status}");
                checkedFlips++;
            }
        }

        Assert.Equal(end * 8, checkedFlips);
    }

    private static string ReplaceFirst(string text, string find, string replace)
    {
        int at = text.IndexOf(find, StringComparison.Ordinal);
        Assert.True(at >= 0, $"'{find}' is not in the text");
        return text.Substring(0, at) + replace + text.Substring(at + find.Length);
    }
}
