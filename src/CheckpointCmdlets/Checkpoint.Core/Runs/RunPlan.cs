using System;
using System.Collections;
using System.Collections.Generic;
using Checkpoint.Identity;

namespace Checkpoint.Runs;

/// <summary>Everything a run is started or resumed with.</summary>
public sealed class RunPlan
{
    /// <summary>The dataset file (.csv or .jsonl).</summary>
    public string DatasetPath { get; set; } = string.Empty;

    /// <summary>The model name; part of the run id and the config hash.</summary>
    public string Model { get; set; } = "default";

    /// <summary>The configuration; part of the config hash (secrets left out).</summary>
    public IDictionary Config { get; set; } = new Hashtable();

    /// <summary>
    /// The configuration as the block sees it in <c>$CheckpointContext.Config</c> (secrets included; it never
    /// leaves memory), when it differs from <see cref="Config"/>; null to use <see cref="Config"/>.
    /// </summary>
    public IDictionary? BlockConfig { get; set; }

    /// <summary>The run seed; part of the config hash.</summary>
    public int Seed { get; set; }

    /// <summary>Where the run's files live.</summary>
    public string OutputDirectory { get; set; } = "outputs";

    /// <summary>The id column, or null for the default (<c>id</c>, else ids derived from content).</summary>
    public string? IdColumn { get; set; }

    /// <summary>The shard to process, or null for all samples.</summary>
    public ShardSpec? Shard { get; set; }

    /// <summary>Records between two checkpoints (fsync and state write).</summary>
    public int CheckpointEvery { get; set; } = 10;

    /// <summary>Process every sample again, completed ones included, appending new records.</summary>
    public bool NoResume { get; set; }

    /// <summary>Leave samples whose latest attempt failed alone.</summary>
    public bool SkipFailed { get; set; }

    /// <summary>Retries after a failed attempt.</summary>
    public int MaxRetries { get; set; } = 3;

    /// <summary>The base delay of the exponential backoff between retries.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait between retries, Retry-After headers included.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(120);

    /// <summary>The longest one attempt may take, or null for no limit.</summary>
    public TimeSpan? Timeout { get; set; }

    /// <summary>Which failures are transient, beyond (or against) the built-in rule.</summary>
    public RetryRules RetryRules { get; set; } = RetryRules.Default;

    /// <summary>Failed attempts in a row (transient, across samples) that mean the API is down.</summary>
    public int MaxConsecutiveFailures { get; set; } = 10;

    /// <summary>The longest an outage is waited out before the run stops with ApiOutage.</summary>
    public TimeSpan MaxOutage { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>The first wait of an outage; each later wait doubles.</summary>
    public TimeSpan OutageWait { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The model's price, for the cost of attempts that report tokens; null when unknown.</summary>
    public Costs.ModelPrice? Price { get; set; }

    /// <summary>Stop the run once its total cost reaches this budget; null for no budget.</summary>
    public decimal? MaxCost { get; set; }

    /// <summary>For estimates before any sample has a cost: the expected cost of one sample.</summary>
    public decimal? EstimatedCostPerSample { get; set; }

    /// <summary>Samples in flight at once: 1 runs on the caller's thread.</summary>
    public int ThrottleLimit { get; set; } = 1;

    /// <summary>
    /// True when attempts run on the caller's thread: one at a time, and no timeout that would need a
    /// runspace of their own to stop them. Otherwise each of <see cref="ThrottleLimit"/> workers has one.
    /// </summary>
    public bool RunsInline => ThrottleLimit == 1 && Timeout is null;

    /// <summary>Process at most this many pending samples, or all when null.</summary>
    public int? Limit { get; set; }

    /// <summary>
    /// The run id to continue (Resume-CheckpointRun); when null the id is found from the dataset, model and
    /// configuration, or made new.
    /// </summary>
    public string? RunId { get; set; }

    /// <summary>Further settings to keep in the state file, such as what a resume needs. Never secrets.</summary>
    public IDictionary<string, object?> Settings { get; set; } = new Dictionary<string, object?>(StringComparer.Ordinal);

    /// <summary>The clock, so that tests can start a run on another day.</summary>
    public Func<DateTime> UtcNow { get; set; } = () => DateTime.UtcNow;
}
