using System;
using System.Collections;
using System.Collections.Generic;
using System.Text.Json;
using Checkpoint.Json;
using Checkpoint.Store;
using Checkpoint.Sharding;

namespace Checkpoint.Runs;

/// <summary>
/// What a run is and how it runs, as it was started: the dataset, id column, model, config, seed, shard and
/// the text of its block, and every setting it keeps (<see cref="KeptSettings"/>, with their defaults and
/// ranges). The engine writes it to the run's state file; a resume reads it back with <see cref="FromState"/>
/// and sets the fields given anew on its command line.
/// </summary>
public sealed class RunDefinition
{
    /// <summary>The dataset file (.csv or .jsonl).</summary>
    public string DatasetPath { get; set; } = string.Empty;

    /// <summary>The id column, or null for the default (<c>id</c>, else ids derived from content).</summary>
    public string? IdColumn { get; set; }

    /// <summary>The model name; part of the run id and the config hash.</summary>
    public string Model { get; set; } = "default";

    /// <summary>The configuration; part of the config hash (secrets are left out of it and off the disk).</summary>
    public IDictionary Config { get; set; } = new Hashtable();

    /// <summary>The run seed; part of the config hash.</summary>
    public int Seed { get; set; }

    /// <summary>The shard to process, or null for all samples.</summary>
    public ShardSpec? Shard { get; set; }

    /// <summary>The text of the block that processes a sample, kept for a resume; null when not known.</summary>
    public string? BlockText { get; set; }

    /// <summary>Records between two checkpoints (fsync and state write).</summary>
    public int CheckpointEvery { get; set; } = KeptSettings.CheckpointEveryDefault;

    /// <summary>Retries after a failed attempt.</summary>
    public int MaxRetries { get; set; } = KeptSettings.MaxRetriesDefault;

    /// <summary>Samples in flight at once: 1 runs on the caller's thread.</summary>
    public int ThrottleLimit { get; set; } = KeptSettings.ThrottleLimitDefault;

    /// <summary>The longest one attempt may take, in seconds, or null for no limit.</summary>
    public double? TimeoutSeconds { get; set; }

    /// <summary>The base delay of the exponential backoff between retries, in seconds.</summary>
    public double RetryDelaySeconds { get; set; } = KeptSettings.RetryDelaySecondsDefault;

    /// <summary>The longest wait between retries, Retry-After headers included, in seconds.</summary>
    public double MaxRetryDelaySeconds { get; set; } = KeptSettings.MaxRetryDelaySecondsDefault;

    /// <summary>Exception type names or HTTP status codes to treat as transient, beyond the built-in rule.</summary>
    public IReadOnlyList<string> RetryOn { get; set; } = Array.Empty<string>();

    /// <summary>Exception type names or HTTP status codes never to retry.</summary>
    public IReadOnlyList<string> NoRetryOn { get; set; } = Array.Empty<string>();

    /// <summary>Failed attempts in a row (transient, across samples) that mean the API is down.</summary>
    public int MaxConsecutiveFailures { get; set; } = KeptSettings.MaxConsecutiveFailuresDefault;

    /// <summary>The longest an outage is waited out before the run stops with ApiOutage, in minutes.</summary>
    public double MaxOutageMinutes { get; set; } = KeptSettings.MaxOutageMinutesDefault;

    /// <summary>The first wait of an outage, in seconds; each later wait doubles.</summary>
    public double OutageWaitSeconds { get; set; } = KeptSettings.OutageWaitSecondsDefault;

    /// <summary>Modules to import into the runspaces of a parallel run; paths are absolute.</summary>
    public IReadOnlyList<string> ImportModule { get; set; } = Array.Empty<string>();

    /// <summary>Prices by model, as given with -Pricing, or null.</summary>
    public IDictionary? Pricing { get; set; }

    /// <summary>The pricing file given with -PricingFile, as given, or null.</summary>
    public string? PricingFile { get; set; }

    /// <summary>Stop the run once its total cost reaches this budget; null for no budget.</summary>
    public decimal? MaxCost { get; set; }

    /// <summary>Requests per minute that this process (this shard) starts at most, or null for no limit.</summary>
    public int? RateLimit { get; set; }

    /// <summary>Tokens per minute that this process (this shard) uses at most, or null for no limit.</summary>
    public int? TokenRateLimit { get; set; }

    /// <summary>The response cache directory given with -CacheDirectory, as given; null for &lt;OutputDirectory&gt;/cache.</summary>
    public string? CacheDirectory { get; set; }

    /// <summary>True when -NoCache turned the response cache off.</summary>
    public bool NoCache { get; set; }

    /// <summary>The longest one attempt may take, or null for no limit.</summary>
    public TimeSpan? Timeout => TimeoutSeconds is double seconds ? TimeSpan.FromSeconds(seconds) : null;

    /// <summary>The base delay of the exponential backoff between retries.</summary>
    public TimeSpan RetryDelay => TimeSpan.FromSeconds(RetryDelaySeconds);

    /// <summary>The longest wait between retries.</summary>
    public TimeSpan MaxRetryDelay => TimeSpan.FromSeconds(MaxRetryDelaySeconds);

    /// <summary>The longest an outage is waited out.</summary>
    public TimeSpan MaxOutage => TimeSpan.FromMinutes(MaxOutageMinutes);

    /// <summary>The first wait of an outage.</summary>
    public TimeSpan OutageWait => TimeSpan.FromSeconds(OutageWaitSeconds);

    /// <summary>Which failures are transient, beyond (or against) the built-in rule.</summary>
    public RetryRules RetryRules => new(RetryOn, NoRetryOn);

    /// <summary>
    /// True when attempts run on the caller's thread: one at a time, and no timeout that would need a
    /// runspace of their own to stop them. Otherwise each of <see cref="ThrottleLimit"/> workers has one.
    /// </summary>
    public bool RunsInline => ThrottleLimit == 1 && TimeoutSeconds is null;

    /// <summary>
    /// The definition <paramref name="state"/> keeps. The kept settings whose parameters
    /// <paramref name="givenAnew"/> names (such as <c>MaxRetries</c>) are not read: the caller sets them. Any
    /// other kept value must be one its parameter takes, within its range, as a value given on the command
    /// line must be; otherwise, or when the state keeps no dataset, model or block, throws
    /// <see cref="CheckpointException"/> (<see cref="ErrorIds.CannotResume"/>) saying which value and why.
    /// </summary>
    public static RunDefinition FromState(RunState state, Func<string, bool>? givenAnew = null)
    {
        givenAnew ??= _ => false;
        if (state.DatasetPath is null || state.Model is null)
        {
            throw CannotResume(state.RunId, $"Run '{state.RunId}' cannot be resumed: its state file keeps no dataset or model. Start it again with Start-CheckpointRun and the same -Dataset, -Model, -Config and -Seed: completed samples are kept and skipped.");
        }

        if (!givenAnew(KeptSettings.BlockParameter) && !(state.Settings.TryGetValue(KeptSettings.BlockKey, out object? block) && block is string))
        {
            throw CannotResume(state.RunId, $"Run '{state.RunId}' keeps no -Process block. Resume it with -Process.");
        }

        var definition = new RunDefinition
        {
            DatasetPath = state.DatasetPath,
            IdColumn = state.IdColumn,
            Model = state.Model,
            Config = ConfigOf(state.ConfigJson),
            Seed = state.Seed,
            Shard = ShardSpec.TryParse(state.Shard, out ShardSpec? shard, out _) ? shard : null,
        };
        foreach (KeptSetting setting in KeptSettings.All)
        {
            if (givenAnew(setting.Parameter) || !state.Settings.TryGetValue(setting.Key, out object? kept) || kept is null)
            {
                continue;
            }

            if (setting.Set(definition, kept) is string problem)
            {
                throw CannotResume(state.RunId, $"Run '{state.RunId}' cannot be resumed: {problem}. Give that parameter to Resume-CheckpointRun, or correct the file.");
            }
        }

        return definition;
    }

    /// <summary>
    /// Writes what the state file keeps of the run's definition: its id column, model, seed and shard, and
    /// every kept setting. Settings it does not know are left as they are.
    /// </summary>
    internal void WriteTo(RunState state)
    {
        state.IdColumn = IdColumn;
        state.Model = Model;
        state.Seed = Seed;
        state.Shard = Shard?.ToString();
        foreach (KeptSetting setting in KeptSettings.All)
        {
            state.Settings[setting.Key] = setting.Get(this);
        }
    }

    // The state keeps the config as canonical JSON; the block sees it as the hashtable it was given as.
    private static IDictionary ConfigOf(string? json)
    {
        if (json is null)
        {
            return new Hashtable(StringComparer.OrdinalIgnoreCase);
        }

        using JsonDocument document = JsonDocument.Parse(json);
        return PlainJson.ToTables(PlainJson.ToPlain(document.RootElement)) as IDictionary ?? new Hashtable(StringComparer.OrdinalIgnoreCase);
    }

    private static CheckpointException CannotResume(string runId, string message) =>
        new(ErrorIds.CannotResume, message) { Target = runId };
}
