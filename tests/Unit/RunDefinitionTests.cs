using System;
using System.Collections;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using Checkpoint.Json;
using Checkpoint.Runs;
using Checkpoint.Store;
using Xunit;
using Checkpoint.Sharding;

namespace Checkpoint.Tests;

/// <summary>
/// A run's definition goes to its state file and comes back from it: every field, with the kept settings
/// held to their parameters' ranges, and a state file as the current release writes it read as it was written.
/// </summary>
public sealed class RunDefinitionTests
{
    // Written by Start-CheckpointRun of release 0.1.0 with every kept setting given, byte for byte.
    private const string CurrentReleaseState = """
        {
          "format_version": 1,
          "module_version": "0.1.0",
          "run_id": "20261206_data_gpt-4o_8ae77f69",
          "shard": "1/2",
          "dataset": {
            "path": "/data/study/data.csv",
            "size": 22,
            "sha256": "2863ce81d3e5214b52f42f06a79558543449374e42bd75050de045e61ee42255",
            "rows": 4,
            "last_write_ticks": 639321194361095042,
            "id_column": "key"
          },
          "model": "gpt-4o",
          "config": {"tags":["x","y"],"temperature":0.5},
          "config_hash": "8ae77f69",
          "seed": 7,
          "counters": {
            "total_samples": 4,
            "completed_samples": 1,
            "failed_samples": 0,
            "error_count": 0
          },
          "status": "Incomplete",
          "started_at": "2026-12-06T02:04:02.0769161Z",
          "last_checkpoint": "2026-12-06T02:04:02.1876213Z",
          "settings": {
            "cache_directory": "/data/cache",
            "checkpoint_every": 5,
            "import_module": [
              "Microsoft.PowerShell.Utility"
            ],
            "max_consecutive_failures": 7,
            "max_cost": 12.5,
            "max_outage_minutes": 2.5,
            "max_retries": 2,
            "max_retry_delay_seconds": 60,
            "no_cache": true,
            "no_retry_on": [
              "400"
            ],
            "outage_wait_seconds": 15,
            "pricing": {
              "gpt-4o": {
                "InputPerMillion": 2.5,
                "OutputPerMillion": 10
              }
            },
            "pricing_file": null,
            "process": " \"answer \" + $_.q ",
            "retry_delay_seconds": 0.25,
            "retry_on": [
              "429",
              "IOException"
            ],
            "throttle_limit": 2,
            "timeout_seconds": 30.5
          },
          "checksum": "0daac9ce"
        }

        """;

    [Fact]
    public void AStateFileAsTheCurrentReleaseWritesItIsReadWithEveryField()
    {
        RunState state = ReadState(CurrentReleaseState);

        RunDefinition definition = RunDefinition.FromState(state);

        Assert.Equal("/data/study/data.csv", definition.DatasetPath);
        Assert.Equal("key", definition.IdColumn);
        Assert.Equal("gpt-4o", definition.Model);
        Assert.Equal(0.5, definition.Config["TEMPERATURE"]);
        Assert.Equal(new object[] { "x", "y" }, Assert.IsType<object?[]>(definition.Config["tags"]));
        Assert.Equal(7, definition.Seed);
        Assert.Equal(new ShardSpec(1, 2), definition.Shard);
        Assert.Equal(" \"answer \" + $_.q ", definition.BlockText);
        Assert.Equal((5, 2, 2, 7), (definition.CheckpointEvery, definition.MaxRetries, definition.ThrottleLimit, definition.MaxConsecutiveFailures));
        Assert.Equal((30.5, 0.25, 60.0), (definition.TimeoutSeconds, definition.RetryDelaySeconds, definition.MaxRetryDelaySeconds));
        Assert.Equal((2.5, 15.0), (definition.MaxOutageMinutes, definition.OutageWaitSeconds));
        Assert.Equal(new[] { "429", "IOException" }, definition.RetryOn);
        Assert.Equal(new[] { "400" }, definition.NoRetryOn);
        Assert.Equal(new[] { "Microsoft.PowerShell.Utility" }, definition.ImportModule);
        Assert.Equal(2.5, Assert.IsAssignableFrom<IDictionary>(definition.Pricing!["GPT-4O"])["inputpermillion"]);
        Assert.Null(definition.PricingFile);
        Assert.Equal(12.5m, definition.MaxCost);
        Assert.Equal(("/data/cache", true), (definition.CacheDirectory, definition.NoCache));
        Assert.False(definition.RunsInline);
        Assert.Null(definition.RateLimit);
        Assert.Null(definition.TokenRateLimit);
    }

    [Fact]
    public void ADefinitionReadFromAStateFileIsWrittenBackAsItWas()
    {
        RunState state = ReadState(CurrentReleaseState);

        RunDefinition.FromState(state).WriteTo(state);

        // The settings added after that release are written at their defaults; everything else as it was.
        Assert.Equal((0, 0), (state.Settings["rate_limit"], state.Settings["token_rate_limit"]));
        state.Settings.Remove("rate_limit");
        state.Settings.Remove("token_rate_limit");
        Assert.Equal(CurrentReleaseState, Encoding.UTF8.GetString(StateFile.Serialize(state)));
    }

    [Fact]
    public void ADefinitionWithItsDefaultsComesBackWithThem()
    {
        var written = new RunDefinition { DatasetPath = "/d/data.csv", BlockText = "$_" };
        var state = new RunState { RunId = "20261206_data_default_00000000", DatasetPath = written.DatasetPath, ConfigJson = "{}" };
        written.WriteTo(state);

        RunDefinition read = RunDefinition.FromState(ReadState(Encoding.UTF8.GetString(StateFile.Serialize(state))));

        Assert.Equal(0.0, state.Settings["timeout_seconds"]);
        Assert.Equal(0m, state.Settings["max_cost"]);
        Assert.Null(read.TimeoutSeconds);
        Assert.Null(read.MaxCost);
        Assert.Null(read.Pricing);
        Assert.True(read.RunsInline);
        Assert.Equal(
            (KeptSettings.CheckpointEveryDefault, KeptSettings.MaxRetriesDefault, KeptSettings.ThrottleLimitDefault, KeptSettings.MaxConsecutiveFailuresDefault),
            (read.CheckpointEvery, read.MaxRetries, read.ThrottleLimit, read.MaxConsecutiveFailures));
        Assert.Equal(
            (KeptSettings.RetryDelaySecondsDefault, KeptSettings.MaxRetryDelaySecondsDefault, KeptSettings.MaxOutageMinutesDefault, KeptSettings.OutageWaitSecondsDefault),
            (read.RetryDelaySeconds, read.MaxRetryDelaySeconds, read.MaxOutageMinutes, read.OutageWaitSeconds));
        Assert.Empty(read.RetryOn);
        Assert.Empty(read.ImportModule);
        Assert.Equal(TimeSpan.FromMinutes(10), read.MaxOutage);
    }

    [Theory]
    [InlineData("retry_delay_seconds", "-5", "retry_delay_seconds = -5, outside the range of -RetryDelaySeconds (0 to 3600)")]
    [InlineData("throttle_limit", "0", "throttle_limit = 0, outside the range of -ThrottleLimit (1 to 1024)")]
    [InlineData("checkpoint_every", "0", "checkpoint_every = 0, outside the range of -CheckpointEvery (1 to 2147483647)")]
    [InlineData("max_retries", "\"many\"", "max_retries = many, which -MaxRetries does not take")]
    [InlineData("timeout_seconds", "0.0001", "timeout_seconds = 0.0001, outside the range of -TimeoutSeconds (0.001 to 604800)")]
    [InlineData("max_cost", "-1", "max_cost = -1, outside the range of -MaxCost (1E-09 to 1.7976931348623157E+308)")]
    [InlineData("retry_on", "{\"a\": 1}", "which -RetryOn does not take")]
    [InlineData("pricing", "\"cheap\"", "pricing = cheap, which -Pricing does not take")]
    public void AKeptSettingItsParameterWouldRefuseIsCannotResumeNamingTheSettingAndRange(string key, string json, string expected)
    {
        RunState state = ReadState(CurrentReleaseState);
        state.Settings[key] = PlainJson.ToPlain(JsonDocument.Parse(json).RootElement);

        var refused = Assert.Throws<CheckpointException>(() => RunDefinition.FromState(state));

        Assert.Equal(ErrorIds.CannotResume, refused.ErrorId);
        Assert.Contains(expected, refused.Message, StringComparison.Ordinal);
        Assert.Equal("20261206_data_gpt-4o_8ae77f69", refused.Target);
    }

    [Fact]
    public void AKeptSettingGivenAnewIsNotReadSoItsKeptValueMayBeAnything()
    {
        RunState state = ReadState(CurrentReleaseState);
        state.Settings["retry_delay_seconds"] = -5L;

        RunDefinition definition = RunDefinition.FromState(state, parameter => parameter == "RetryDelaySeconds");

        Assert.Equal(KeptSettings.RetryDelaySecondsDefault, definition.RetryDelaySeconds);
        Assert.Equal(2, definition.MaxRetries);
    }

    [Fact]
    public void AStateThatKeepsNoBlockIsCannotResumeUnlessTheBlockIsGivenAnew()
    {
        RunState state = ReadState(CurrentReleaseState);
        state.Settings.Remove("process");

        var refused = Assert.Throws<CheckpointException>(() => RunDefinition.FromState(state));
        RunDefinition given = RunDefinition.FromState(state, parameter => parameter == KeptSettings.BlockParameter);

        Assert.Equal(ErrorIds.CannotResume, refused.ErrorId);
        Assert.Contains("keeps no -Process block", refused.Message, StringComparison.Ordinal);
        Assert.Null(given.BlockText);
    }

    [Fact]
    public void EveryKeptSettingHasAKeyAndAParameterOfItsOwn()
    {
        Assert.Equal(
            new[] { "CacheDirectory", "CheckpointEvery", "ImportModule", "MaxConsecutiveFailures", "MaxCost", "MaxOutageMinutes", "MaxRetries", "MaxRetryDelaySeconds", "NoCache", "NoRetryOn", "OutageWaitSeconds", "Pricing", "PricingFile", "Process", "RateLimit", "RetryDelaySeconds", "RetryOn", "ThrottleLimit", "TimeoutSeconds", "TokenRateLimit" },
            KeptSettings.All.Select(s => s.Parameter).OrderBy(p => p, StringComparer.Ordinal));
        Assert.Equal(KeptSettings.All.Count, KeptSettings.All.Select(s => s.Key).Distinct().Count());
    }

    [Fact]
    public void AResumeOfAPartReadsItsStateFileAndTakesTheShardFromThePart()
    {
        using var dir = new TestDirectory();
        var part = new RunFiles(dir.Path, "20261206_data_gpt-4o_8ae77f69", new ShardSpec(1, 2));
        File.WriteAllText(part.StatePath, CurrentReleaseState);
        File.WriteAllText(part.ResultsPath, string.Empty);
        RunSet set = RunSet.Find(dir.Path).Single();

        // A state of the release before signing keeps an unsigned block: it is read once trusted.
        var unsigned = Assert.Throws<CheckpointException>(() => set.DefinitionOf(set.Parts.Single()));
        RunDefinition definition = set.DefinitionOf(set.Parts.Single(), trustStoredBlock: true);
        File.WriteAllText(part.StatePath, CurrentReleaseState.Replace("\"seed\": 7", "\"seed\": 8"));
        var changed = Assert.Throws<CheckpointException>(() => set.DefinitionOf(set.Parts.Single()));
        RunDefinition anew = set.DefinitionOf(set.Parts.Single(), parameter => parameter == KeptSettings.BlockParameter);

        Assert.Equal(ErrorIds.StoredProcessUntrusted, unsigned.ErrorId);
        Assert.Equal(new ShardSpec(1, 2), definition.Shard);
        Assert.Equal(ErrorIds.StateChangedOutside, changed.ErrorId);
        Assert.Equal(8, anew.Seed);
    }

    private static RunState ReadState(string text)
    {
        using var dir = new TestDirectory();
        string path = dir.File("x_resume_state.json");
        File.WriteAllText(path, text);
        return StateFile.Read(path).State!;
    }
}
