using System;
using System.Collections;

namespace Checkpoint.Runs;

/// <summary>
/// One start or resume of a run: its <see cref="Definition"/>, kept with the run, and what applies to this
/// call alone (where the files are, which samples to take now, the price found for the model).
/// </summary>
public sealed class RunPlan
{
    /// <summary>What the run is and how it runs; written to its state file.</summary>
    public RunDefinition Definition { get; init; } = new();

    /// <summary>
    /// The configuration as the block sees it in <c>$CheckpointContext.Config</c> (secrets included; it never
    /// leaves memory), when it differs from the definition's; null to use <see cref="RunDefinition.Config"/>.
    /// </summary>
    public IDictionary? BlockConfig { get; set; }

    /// <summary>Where the run's files live.</summary>
    public string OutputDirectory { get; set; } = "outputs";

    /// <summary>
    /// The run id to continue (Resume-CheckpointRun); when null the id is found from the dataset, model and
    /// configuration, or made new.
    /// </summary>
    public string? RunId { get; set; }

    /// <summary>Process every sample again, completed ones included, appending new records.</summary>
    public bool NoResume { get; set; }

    /// <summary>Leave samples whose latest attempt failed alone.</summary>
    public bool SkipFailed { get; set; }

    /// <summary>Process at most this many pending samples, or all when null.</summary>
    public int? Limit { get; set; }

    /// <summary>For estimates before any sample has a cost: the expected cost of one sample.</summary>
    public decimal? EstimatedCostPerSample { get; set; }

    /// <summary>The model's price, for the cost of attempts that report tokens; null when unknown.</summary>
    public Costs.ModelPrice? Price { get; set; }

    /// <summary>The clock, so that tests can start a run on another day.</summary>
    public Func<DateTime> UtcNow { get; set; } = () => DateTime.UtcNow;
}
