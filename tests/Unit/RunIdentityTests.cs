using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security;
using Checkpoint.Identity;
using Checkpoint.Store;
using Xunit;
using Checkpoint.Sharding;

namespace Checkpoint.Tests;

public sealed class RunIdentityTests
{
    private const string IdPattern = @"^\d{8}_[A-Za-z0-9._-]+_[A-Za-z0-9._-]+_[0-9a-f]{8}$";

    private static readonly DateTime s_day = new(2026, 11, 28, 23, 59, 59);

    // ---- Shape ------------------------------------------------------------------------------------------

    [Fact]
    public void TheRunIdIsDateDatasetModelAndEightHexDigits()
    {
        RunIdentity identity = RunIdentity.Create("/data/gsm8k-test.jsonl", "gpt-4o-mini", new Hashtable { ["temperature"] = 0.2 }, 7);

        string id = identity.RunIdFor(s_day);

        Assert.Matches(IdPattern, id);
        Assert.Matches("^[0-9a-f]{8}$", identity.ConfigHash);
        Assert.Equal("gsm8k-test", identity.DatasetName);
        Assert.Equal("gpt-4o-mini", identity.Model);
        Assert.Equal("_gsm8k-test_gpt-4o-mini_" + identity.ConfigHash, identity.Suffix);
        Assert.Equal("20261128_gsm8k-test_gpt-4o-mini_" + identity.ConfigHash, id);
        Assert.Equal("20270101" + identity.Suffix, identity.RunIdFor(new DateTime(2027, 1, 1)));
        Assert.True(RunFiles.IsValidRunId(id));
    }

    [Fact]
    public void TheHashIsTheSha256OfTheCanonicalConfig()
    {
        RunIdentity identity = RunIdentity.Create("d.csv", "m", new Dictionary<string, object?> { ["b"] = 1, ["a"] = "x" }, 3);

        Assert.Equal("{\"model\":\"m\",\"config\":{\"a\":\"x\",\"b\":1},\"seed\":3}", identity.CanonicalConfig);
        using var sha = System.Security.Cryptography.SHA256.Create();
        byte[] hash = sha.ComputeHash(System.Text.Encoding.UTF8.GetBytes(identity.CanonicalConfig));
        Assert.Equal(string.Concat(hash.Take(4).Select(b => b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture))), identity.ConfigHash);
    }

    [Fact]
    public void TheRunIdDateIsCultureInvariant()
    {
        var previous = System.Globalization.CultureInfo.CurrentCulture;
        try
        {
            System.Globalization.CultureInfo.CurrentCulture = new System.Globalization.CultureInfo("th-TH");
            RunIdentity identity = RunIdentity.Create("d.csv", "m", null, 0);
            Assert.StartsWith("20261128_", identity.RunIdFor(s_day), StringComparison.Ordinal);
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentCulture = previous;
        }
    }

    // ---- Hash stability and sensitivity -----------------------------------------------------------------

    [Fact]
    public void TheHashDoesNotDependOnInsertionOrderOrDictionaryType()
    {
        var hashtableA = new Hashtable();
        hashtableA["temperature"] = 0.7;
        hashtableA["max_tokens"] = 512;
        hashtableA["system"] = "You are terse.";
        hashtableA["nested"] = new Hashtable { ["z"] = 1, ["a"] = new[] { "x", "y" } };
        hashtableA["top_p"] = 1;

        var hashtableB = new Hashtable();
        hashtableB["top_p"] = 1;
        hashtableB["nested"] = new Hashtable { ["a"] = new[] { "x", "y" }, ["z"] = 1 };
        hashtableB["system"] = "You are terse.";
        hashtableB["max_tokens"] = 512;
        hashtableB["temperature"] = 0.7;

        var dictionary = new Dictionary<string, object?>
        {
            ["nested"] = new Dictionary<string, object?> { ["z"] = 1, ["a"] = new List<string> { "x", "y" } },
            ["system"] = "You are terse.",
            ["top_p"] = 1,
            ["temperature"] = 0.7,
            ["max_tokens"] = 512,
        };
        var sorted = new SortedDictionary<string, object?>(StringComparer.Ordinal)
        {
            ["max_tokens"] = 512L,
            ["nested"] = new SortedDictionary<string, object?> { ["a"] = new object[] { "x", "y" }, ["z"] = 1L },
            ["system"] = "You are terse.",
            ["temperature"] = 0.7,
            ["top_p"] = 1L,
        };

        string expected = RunIdentity.Create("d.csv", "m", hashtableA, 1).ConfigHash;

        Assert.Equal(expected, RunIdentity.Create("d.csv", "m", hashtableB, 1).ConfigHash);
        Assert.Equal(expected, RunIdentity.Create("d.csv", "m", dictionary, 1).ConfigHash);
        Assert.Equal(expected, RunIdentity.Create("d.csv", "m", sorted, 1).ConfigHash);
        Assert.Equal(RunIdentity.Create("d.csv", "m", hashtableA, 1).CanonicalConfig, RunIdentity.Create("d.csv", "m", dictionary, 1).CanonicalConfig);
    }

    [Fact]
    public void TheHashChangesWithModelSeedAndConfigValues()
    {
        var config = new Hashtable { ["temperature"] = 0.2, ["nested"] = new Hashtable { ["k"] = "v" } };
        string baseline = RunIdentity.Create("d.csv", "m", config, 1).ConfigHash;

        var hashes = new[]
        {
            RunIdentity.Create("d.csv", "m2", config, 1).ConfigHash,
            RunIdentity.Create("d.csv", "m", config, 2).ConfigHash,
            RunIdentity.Create("d.csv", "m", new Hashtable { ["temperature"] = 0.3, ["nested"] = new Hashtable { ["k"] = "v" } }, 1).ConfigHash,
            RunIdentity.Create("d.csv", "m", new Hashtable { ["temperature"] = 0.2, ["nested"] = new Hashtable { ["k"] = "w" } }, 1).ConfigHash,
            RunIdentity.Create("d.csv", "m", new Hashtable { ["temperature"] = 0.2 }, 1).ConfigHash,
            RunIdentity.Create("d.csv", "m", null, 1).ConfigHash,
        };

        Assert.All(hashes, h => Assert.NotEqual(baseline, h));
        Assert.Equal(hashes.Length, hashes.Distinct(StringComparer.Ordinal).Count());

        // The dataset is in the id, not in the hash.
        Assert.Equal(baseline, RunIdentity.Create("other.csv", "m", config, 1).ConfigHash);
    }

    [Fact]
    public void SecretsNeverChangeTheHashNorAppearInTheCanonicalConfig()
    {
        var plain = new Hashtable { ["temperature"] = 0.2, ["nested"] = new Hashtable { ["k"] = "v" } };
        using var secure = new SecureString();
        foreach (char c in "hunter2-secure")
        {
            secure.AppendChar(c);
        }

        var withSecrets = new Hashtable
        {
            ["temperature"] = 0.2,
            ["nested"] = new Hashtable { ["k"] = "v", ["api_key"] = "sk-nested-secret" },
            ["api_key"] = "sk-secret-1",
            ["apiKey"] = "sk-secret-2",
            ["token"] = "tok-secret",
            ["password"] = "pw-secret",
            ["client_secret"] = "cs-secret",
            ["Authorization"] = "Bearer auth-secret",
            ["innocent_name"] = secure,
        };

        RunIdentity a = RunIdentity.Create("d.csv", "m", plain, 1);
        RunIdentity b = RunIdentity.Create("d.csv", "m", withSecrets, 1);

        Assert.Equal(a.ConfigHash, b.ConfigHash);
        Assert.Equal(a.CanonicalConfig, b.CanonicalConfig);
        foreach (string secret in new[] { "secret", "hunter2", "innocent_name", "api_key", "apiKey", "Authorization" })
        {
            Assert.DoesNotContain(secret, b.CanonicalConfig, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void SecretsInsideAListOfEntriesNeverReachTheCanonicalConfig()
    {
        // A config such as @{ headers = @(@{ Authorization = '...' }) }: the canonical config is written to the
        // state file, so a secret nested in a list must be dropped as well.
        var plain = new Hashtable { ["headers"] = new object[] { new Hashtable { ["Accept"] = "application/json" } } };
        var withSecret = new Hashtable { ["headers"] = new object[] { new Hashtable { ["Accept"] = "application/json", ["Authorization"] = "Bearer sk-in-a-list" } } };

        RunIdentity b = RunIdentity.Create("d.csv", "m", withSecret, 1);

        Assert.DoesNotContain("sk-in-a-list", b.CanonicalConfig, StringComparison.Ordinal);
        Assert.Equal(RunIdentity.Create("d.csv", "m", plain, 1).ConfigHash, b.ConfigHash);
    }

    [Theory]
    [InlineData("max_tokens", 256)]
    [InlineData("keywords", "ducks")]
    [InlineData("maxTokens", 256)]
    [InlineData("monkey", "see")]
    [InlineData("tokens", 3)]
    public void NonSecretNamesThatLookLikeSecretsDoChangeTheHash(string name, object value)
    {
        var config = new Hashtable { ["temperature"] = 0.2 };
        var more = new Hashtable { ["temperature"] = 0.2, [name] = value };

        RunIdentity identity = RunIdentity.Create("d.csv", "m", more, 1);

        Assert.NotEqual(RunIdentity.Create("d.csv", "m", config, 1).ConfigHash, identity.ConfigHash);
        Assert.Contains("\"" + name + "\"", identity.CanonicalConfig, StringComparison.Ordinal);
    }

    // ---- Sanitize ---------------------------------------------------------------------------------------

    [Theory]
    [InlineData("gpt-4o-mini", "gpt-4o-mini")]
    [InlineData("Meta Llama/3.1 8B:instruct", "Meta-Llama-3.1-8B-instruct")]
    [InlineData("a/b\\c", "a-b-c")]
    [InlineData("../../etc/passwd", "..-..-etc-passwd")]
    [InlineData("..", "--")]
    [InlineData(".", "-")]
    [InlineData("...", "---")]
    [InlineData("", "-")]
    [InlineData(null, "-")]
    [InlineData("ünï 数学", "-n----")]
    [InlineData("*?[]", "----")]
    [InlineData("under_score.dot-dash", "under_score.dot-dash")]
    public void SanitizeKeepsOnlySafeCharacters(string? name, string expected)
    {
        Assert.Equal(expected, RunIdentity.Sanitize(name));
    }

    [Theory]
    [InlineData("../../etc/passwd")]
    [InlineData("a/b\\c")]
    [InlineData("..")]
    [InlineData(".")]
    [InlineData("....................................................................................")]
    [InlineData("/")]
    [InlineData("\\\\server\\share")]
    [InlineData("C:\\Windows\\System32")]
    [InlineData("\0nul\0")]
    [InlineData("line\nbreak\r\n")]
    [InlineData("~/.ssh/id_rsa")]
    [InlineData("🙂🙂🙂")]
    public void SanitizeNeverYieldsASeparatorADotOnlyNameOrAnEmptyName(string name)
    {
        foreach (string input in new[] { name, name + new string('x', 100), new string('y', 63) + name })
        {
            string safe = RunIdentity.Sanitize(input);

            Assert.Matches("^[A-Za-z0-9._-]+$", safe);
            Assert.DoesNotContain('/', safe);
            Assert.DoesNotContain('\\', safe);
            Assert.NotEqual(string.Empty, safe.Trim('.'));
            Assert.True(safe.Length <= 64, $"'{safe}' is {safe.Length} characters long");
            Assert.Equal(safe, RunIdentity.Sanitize(safe));
        }
    }

    [Fact]
    public void SanitizeCapsAt64Characters()
    {
        string safe = RunIdentity.Sanitize(new string('m', 200));
        Assert.Equal(new string('m', 64), safe);
        Assert.Equal(64, RunIdentity.Sanitize(new string('/', 65)).Length);
        Assert.Equal(new string('-', 64), RunIdentity.Sanitize(new string('.', 200)));
    }

    [Theory]
    [InlineData("../../etc/passwd", "../../etc/passwd")]
    [InlineData("a/b\\c", "a/b\\c")]
    [InlineData("..", "..")]
    [InlineData(".", ".")]
    [InlineData("../../../../tmp/evil.csv", "../x/../../y")]
    [InlineData("/abs/path/data.jsonl", "/abs")]
    public void NamesBuiltToEscapeStayInsideTheOutputDirectory(string datasetPath, string model)
    {
        using var dir = new TestDirectory();
        RunIdentity identity = RunIdentity.Create(datasetPath, model, new Hashtable { ["k"] = datasetPath }, 0);

        string id = identity.RunIdFor(s_day);

        Assert.Matches(IdPattern, id);
        Assert.Equal(id, Path.GetFileName(id));
        Assert.True(RunFiles.IsValidRunId(id));
        string root = Path.GetFullPath(dir.Path) + Path.DirectorySeparatorChar;
        string results = Path.GetFullPath(Path.Combine(dir.Path, id + ".jsonl"));
        Assert.StartsWith(root, results, StringComparison.Ordinal);
        Assert.Equal(dir.Path, Path.GetDirectoryName(results));

        var files = new RunFiles(dir.Path, id, new ShardSpec(2, 4));
        foreach (string path in new[] { files.ResultsPath, files.StatePath, files.ErrorLogPath, files.LockPath, files.LeasePath })
        {
            Assert.Equal(dir.Path, Path.GetDirectoryName(Path.GetFullPath(path)));
        }
    }

    // ---- Finding an existing run ------------------------------------------------------------------------

    [Fact]
    public void ARunStartedYesterdayIsContinuedToday()
    {
        using var dir = new TestDirectory();
        RunIdentity identity = RunIdentity.Create("gsm8k.csv", "model", new Hashtable { ["t"] = 1 }, 0);
        File.WriteAllText(dir.File("20261127" + identity.Suffix + ".jsonl"), string.Empty);

        Assert.Equal("20261127" + identity.Suffix, identity.FindExisting(dir.Path));
        Assert.Equal("20261127" + identity.Suffix, identity.ResolveRunId(dir.Path, new DateTime(2026, 11, 28)));
    }

    [Fact]
    public void WithoutAnExistingRunTodaysIdIsUsed()
    {
        using var dir = new TestDirectory();
        RunIdentity identity = RunIdentity.Create("gsm8k.csv", "model", null, 0);

        Assert.Null(identity.FindExisting(dir.Path));
        Assert.Null(identity.FindExisting(Path.Combine(dir.Path, "does-not-exist")));
        Assert.Equal("20261128" + identity.Suffix, identity.ResolveRunId(dir.Path, new DateTime(2026, 11, 28)));
        Assert.Equal("20261128" + identity.Suffix, identity.ResolveRunId(Path.Combine(dir.Path, "does-not-exist"), new DateTime(2026, 11, 28)));
    }

    [Fact]
    public void RunsOfOtherConfigurationsModelsOrDatasetsAreIgnored()
    {
        using var dir = new TestDirectory();
        RunIdentity mine = RunIdentity.Create("gsm8k.csv", "model", new Hashtable { ["t"] = 1 }, 0);
        RunIdentity otherConfig = RunIdentity.Create("gsm8k.csv", "model", new Hashtable { ["t"] = 2 }, 0);
        RunIdentity otherSeed = RunIdentity.Create("gsm8k.csv", "model", new Hashtable { ["t"] = 1 }, 1);
        RunIdentity otherModel = RunIdentity.Create("gsm8k.csv", "model2", new Hashtable { ["t"] = 1 }, 0);
        RunIdentity otherDataset = RunIdentity.Create("gsm8k2.csv", "model", new Hashtable { ["t"] = 1 }, 0);
        RunIdentity prefixModel = RunIdentity.Create("gsm8k.csv", "x_model", new Hashtable { ["t"] = 1 }, 0);
        foreach (RunIdentity other in new[] { otherConfig, otherSeed, otherModel, otherDataset, prefixModel })
        {
            File.WriteAllText(dir.File(other.RunIdFor(new DateTime(2026, 11, 20)) + ".jsonl"), string.Empty);
        }

        // Files that are not results or state, or whose date part is no date, do not count either.
        File.WriteAllText(dir.File("20261121" + mine.Suffix + ".lock"), string.Empty);
        File.WriteAllText(dir.File("20261122" + mine.Suffix + "_errors.log"), string.Empty);
        File.WriteAllText(dir.File("20261123" + mine.Suffix + ".jsonl.damaged-20261123T000000Z"), string.Empty);
        File.WriteAllText(dir.File("20261399" + mine.Suffix + ".jsonl"), string.Empty);
        File.WriteAllText(dir.File("x20261124" + mine.Suffix + ".jsonl"), string.Empty);

        Assert.Null(mine.FindExisting(dir.Path));
        Assert.Equal("20261128" + mine.Suffix, mine.ResolveRunId(dir.Path, new DateTime(2026, 11, 28)));
        Assert.Equal(otherConfig.RunIdFor(new DateTime(2026, 11, 20)), otherConfig.FindExisting(dir.Path));
    }

    [Fact]
    public void TheEarliestRunIsFoundFromAStateFileOrAShardFileAlone()
    {
        using var dir = new TestDirectory();
        RunIdentity identity = RunIdentity.Create("gsm8k.csv", "model", null, 0);
        File.WriteAllText(dir.File("20261126" + identity.Suffix + "_resume_state.json"), "{}");
        Assert.Equal("20261126" + identity.Suffix, identity.FindExisting(dir.Path));

        File.WriteAllText(dir.File("20261125" + identity.Suffix + "_shard-2-of-4.jsonl"), string.Empty);
        File.WriteAllText(dir.File("20261127" + identity.Suffix + ".jsonl"), string.Empty);
        Assert.Equal("20261125" + identity.Suffix, identity.FindExisting(dir.Path));
        Assert.Equal("20261125" + identity.Suffix, identity.ResolveRunId(dir.Path, new DateTime(2026, 11, 28)));
    }

    // ---- RunFiles ---------------------------------------------------------------------------------------

    [Theory]
    [InlineData("20261128_gsm8k_gpt-4o_0123abcd")]
    [InlineData("20261128_a.b_c-d_ffffffff")]
    [InlineData("20261128_data_model_with_underscores_00000000")]
    public void IsValidRunIdAcceptsTheShape(string id)
    {
        Assert.True(RunFiles.IsValidRunId(id));
        Assert.Equal(id, new RunFiles(Path.GetTempPath(), id).RunId);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("..")]
    [InlineData("../20261128_gsm8k_model_0123abcd")]
    [InlineData("20261128_gsm8k_model_0123abcd/..")]
    [InlineData("20261128_../../etc_0123abcd/x")]
    [InlineData("..\\20261128_gsm8k_model_0123abcd")]
    [InlineData("20261128_gsm8k\\..\\x_model_0123abcd")]
    [InlineData("sub/20261128_gsm8k_model_0123abcd")]
    [InlineData("/20261128_gsm8k_model_0123abcd")]
    [InlineData("20261128_gsm8k_model_0123abc*")]
    [InlineData("2026112?_gsm8k_model_0123abcd")]
    [InlineData("20261128_gsm*_model_0123abcd")]
    [InlineData("20261128_[gsm]_model_0123abcd")]
    [InlineData("*")]
    [InlineData("20261128_gsm8k_model_0123ABCD")]
    [InlineData("20261128_gsm8k_model_0123abc")]
    [InlineData("2026112_gsm8k_model_0123abcd")]
    [InlineData("20261128__0123abcd")]
    [InlineData("20261128_gsm 8k_model_0123abcd")]
    [InlineData("20261128_gsm8k_model_0123abcd.jsonl")]
    [InlineData("20261128_gsm8k_model_0123abcd\n")]
    [InlineData("20261128_gsm8k_model_0123abcd ")]
    [InlineData(" 20261128_gsm8k_model_0123abcd")]
    public void IsValidRunIdRejectsEverythingElse(string? id)
    {
        Assert.False(RunFiles.IsValidRunId(id), $"'{id}' was accepted as a run id");
        if (id is not null)
        {
            Assert.Throws<ArgumentException>(() => new RunFiles(Path.GetTempPath(), id));
        }
    }

    [Fact]
    public void DiscoverRunIdsFindsResultsStateAndShardFilesOnly()
    {
        using var dir = new TestDirectory();
        const string Results = "20261128_gsm8k_model_00000001";
        const string State = "20261128_gsm8k_model_00000002";
        const string Shard = "20261128_gsm8k_model_00000003";
        const string ShardState = "20261127_gsm8k_model_00000004";
        foreach (string name in new[]
        {
            Results + ".jsonl",
            State + "_resume_state.json",
            Shard + "_shard-2-of-4.jsonl",
            ShardState + "_shard-1-of-2_resume_state.json",
            Results + "_resume_state.json",
            Results + "_shard-1-of-2.jsonl",

            // None of these name a run.
            "20261128_gsm8k_model_00000005.lock",
            "20261128_gsm8k_model_00000006.lock.json",
            "20261128_gsm8k_model_00000007_errors.log",
            "20261128_gsm8k_model_00000008.jsonl.damaged-20261128T000000Z",
            "20261128_gsm8k_model_00000009_resume_state.json.tmp-123",
            "20261128_gsm8k_model_0000000A.jsonl",
            "20261128_gsm8k_model_0000000b.json",
            "2026112_gsm8k_model_0000000c.jsonl",
            "notes.jsonl",
            "readme.txt",
        })
        {
            File.WriteAllText(dir.File(name), string.Empty);
        }

        Directory.CreateDirectory(dir.File("20261128_gsm8k_model_0000000d.jsonl"));

        IReadOnlyList<string> ids = RunFiles.DiscoverRunIds(dir.Path);

        Assert.Equal(new[] { ShardState, Results, State, Shard }, ids);
        Assert.Empty(RunFiles.DiscoverRunIds(Path.Combine(dir.Path, "missing")));
    }

    [Fact]
    public void ExistingFilesListsTheFilesOfThatRunOnly()
    {
        using var dir = new TestDirectory();
        const string Run = "20261128_gsm8k_model_0123abcd";
        var files = new RunFiles(dir.Path, Run);
        var mine = new[]
        {
            files.ResultsPath,
            files.StatePath,
            files.ErrorLogPath,
            files.LockPath,
            files.LeasePath,
            dir.File(Run + ".jsonl.damaged-20261128T120000000Z-at-512"),
            dir.File(Run + ".jsonl.damaged-20261128T130000000Z-at-0"),
            dir.File(Run + "_resume_state.json.tmp-4242"),
            dir.File(Run + ".lock.json.tmp-4242"),
        };
        var others = new[]
        {
            // The run's shards, another run whose id starts the same way, another date, and stray files.
            dir.File(Run + "_shard-1-of-2.jsonl"),
            dir.File(Run + "_shard-1-of-2_resume_state.json"),
            dir.File(Run + "_shard-1-of-2.jsonl.damaged-20261128T120000000Z-at-9"),
            dir.File(Run + "_shard-1-of-2.lock"),
            dir.File("20261128_gsm8k_model_0123abcd_x_89abcdef.jsonl"),
            dir.File("20261128_gsm8k_model_0123abcd_x_89abcdef.jsonl.damaged-1"),
            dir.File("20261128_gsm8k_model_0123abcd_x_89abcdef_resume_state.json"),
            dir.File("20261128_gsm8k_model_0123abcd_x_89abcdef.lock"),
            dir.File("20261128_gsm8k_model-2_0123abcd.jsonl"),
            dir.File("20261127_gsm8k_model_0123abcd.jsonl"),
            dir.File(Run + ".jsonl.bak"),
            dir.File(Run + ".jsonl.damaged"),
            dir.File("x" + Run + ".jsonl"),
        };
        foreach (string path in mine.Concat(others))
        {
            File.WriteAllText(path, "x");
        }

        IReadOnlyList<string> found = files.ExistingFiles();

        Assert.Equal(mine.OrderBy(p => p, StringComparer.Ordinal), found.OrderBy(p => p, StringComparer.Ordinal));

        var shard = new RunFiles(dir.Path, Run, new ShardSpec(1, 2));
        Assert.Equal(
            new[] { others[0], others[1], others[3], others[2] }.OrderBy(p => p, StringComparer.Ordinal),
            shard.ExistingFiles().OrderBy(p => p, StringComparer.Ordinal));
    }

    [Fact]
    public void ExistingFilesNeverListsTheFilesOfARunWhoseIdStartsWithThisRunsFileNames()
    {
        // Valid run ids may hold dots and dashes, so another run's id can begin with "{run}.jsonl.damaged-":
        // its results file then matches this run's sidecar pattern, and removing this run would delete it.
        using var dir = new TestDirectory();
        const string Run = "20261128_gsm8k_model_0123abcd";
        const string Other = Run + ".jsonl.damaged-x_89abcdef";
        Assert.True(RunFiles.IsValidRunId(Other));
        var files = new RunFiles(dir.Path, Run);
        var other = new RunFiles(dir.Path, Other);
        File.WriteAllText(files.ResultsPath, "x");
        File.WriteAllText(other.ResultsPath, "x");
        File.WriteAllText(other.StatePath, "x");

        Assert.Equal(new[] { files.ResultsPath }, files.ExistingFiles());
    }

    [Fact]
    public void ExistingFilesOfAMissingDirectoryIsEmpty()
    {
        using var dir = new TestDirectory();
        var files = new RunFiles(Path.Combine(dir.Path, "nope"), "20261128_gsm8k_model_0123abcd");

        Assert.Empty(files.ExistingFiles());
    }

    [Fact]
    public void RunFilesNamesFollowTheBaseName()
    {
        using var dir = new TestDirectory();
        const string Run = "20261128_gsm8k_model_0123abcd";
        var files = new RunFiles(dir.Path, Run);
        var shard = new RunFiles(dir.Path, Run, new ShardSpec(2, 4));

        Assert.Equal(Run, files.BaseName);
        Assert.Equal(Run + "_shard-2-of-4", shard.BaseName);
        Assert.Equal(dir.File(Run + ".jsonl"), files.ResultsPath);
        Assert.Equal(dir.File(Run + "_resume_state.json"), files.StatePath);
        Assert.Equal(dir.File(Run + "_errors.log"), files.ErrorLogPath);
        Assert.Equal(dir.File(Run + ".lock"), files.LockPath);
        Assert.Equal(dir.File(Run + ".lock.json"), files.LeasePath);
        Assert.Equal(dir.File(Run + "_shard-2-of-4.jsonl"), shard.ResultsPath);
        Assert.Equal(dir.File(Run + "_shard-2-of-4_resume_state.json"), shard.StatePath);
    }
}
