using System;
using System.Collections;

namespace Checkpoint.Runs;

/// <summary>
/// What a sample's block sees as <c>$CheckpointContext</c>: the run, the sample, the attempt, and a random
/// stream of its own, seeded from (run seed, sample id), so results do not depend on order or parallelism.
/// </summary>
public sealed class SampleContext
{
    internal SampleContext(string runId, string sampleId, int attempt, string model, IDictionary config, int seed, string? shard)
    {
        RunId = runId;
        SampleId = sampleId;
        Attempt = attempt;
        Model = model;
        Config = config;
        Seed = seed;
        Shard = shard;
    }

    private int? _sampleSeed;
    private Random? _random;

    /// <summary>The run id.</summary>
    public string RunId { get; }

    /// <summary>Input tokens the block reported for this attempt with <see cref="AddUsage"/>, or null.</summary>
    public long? InputTokens { get; private set; }

    /// <summary>Output tokens the block reported for this attempt with <see cref="AddUsage"/>, or null.</summary>
    public long? OutputTokens { get; private set; }

    /// <summary>The cost the block reported for this attempt with <see cref="AddCost"/>, or null.</summary>
    public decimal? Cost { get; private set; }

    /// <summary>
    /// Adds tokens this attempt used (call it once per model call, failed calls too). When the block reports
    /// usage this way, the usage in its result is not counted again.
    /// </summary>
    public void AddUsage(long inputTokens, long outputTokens)
    {
        InputTokens = (InputTokens ?? 0) + inputTokens;
        OutputTokens = (OutputTokens ?? 0) + outputTokens;
        if (Rate is (RateGovernor governor, RateGovernor.Ticket ticket))
        {
            governor.Debit(ticket, inputTokens + outputTokens);
        }
    }

    /// <summary>
    /// Waits until the run's rate limits (-RateLimit, -TokenRateLimit, a 429's pause) let one more call start,
    /// and takes one request. A block that makes several calls per sample calls it before each one; the run
    /// then counts its calls instead of its attempts. Returns at once when the run has no limits.
    /// </summary>
    public void WaitForRate() => WaitForRate(0);

    /// <summary>
    /// As <see cref="WaitForRate()"/>, and reserves <paramref name="estimatedTokens"/> of -TokenRateLimit for
    /// the call; the usage reported afterwards (<see cref="AddUsage"/>, or the usage in the result) replaces
    /// the estimate.
    /// </summary>
    public void WaitForRate(long estimatedTokens)
    {
        if (Rate is (RateGovernor governor, RateGovernor.Ticket ticket))
        {
            governor.BeforeCall(ticket, Math.Max(0, estimatedTokens), Cancellation);
        }
    }

    /// <summary>The run's rate limits and this attempt's hold on them, when the run has a governor.</summary>
    internal (RateGovernor Governor, RateGovernor.Ticket Ticket)? Rate { get; set; }

    /// <summary>Stops a <see cref="WaitForRate()"/> when the run stops.</summary>
    internal System.Threading.CancellationToken Cancellation { get; set; }

    /// <summary>Adds a cost this attempt incurred; it then replaces the cost computed from tokens and prices.</summary>
    public void AddCost(decimal cost) => Cost = (Cost ?? 0) + cost;

    /// <summary>The sample id.</summary>
    public string SampleId { get; }

    /// <summary>The attempt number, from 1, counting attempts of earlier sessions too.</summary>
    public int Attempt { get; }

    /// <summary>The model name of the run.</summary>
    public string Model { get; }

    /// <summary>The run's configuration as given (secrets included: it never leaves memory from here).</summary>
    public IDictionary Config { get; }

    /// <summary>The run seed.</summary>
    public int Seed { get; }

    /// <summary>The seed of this sample's random stream, derived from the run seed and the sample id.</summary>
    public int SampleSeed => _sampleSeed ??= SampleSeeds.For(Seed, SampleId);

    /// <summary>This sample's random stream: the same numbers on every attempt, machine and shard.</summary>
    /// <remarks>Made on first use: seeding a Random costs more than the rest of a no-op attempt.</remarks>
    public Random Random => _random ??= new Random(SampleSeed);

    /// <summary>The shard as k/n, or null for an unsharded run.</summary>
    public string? Shard { get; }

    /// <summary>Calls this attempt took from the response cache with <see cref="Cached"/>.</summary>
    public int CacheHits { get; private set; }

    /// <summary>What those calls would have cost at the run's price (they cost nothing).</summary>
    public decimal CachedCost { get; private set; }

    /// <summary>The run's response cache, set by the processor that runs the block.</summary>
    internal Cache.CachedCalls? Calls { get; set; }

    /// <summary>
    /// Returns the output of <paramref name="block"/> for <paramref name="key"/>: stored from an earlier call with
    /// an equal key (this attempt, an earlier one, another run using the same cache) without running the block,
    /// else the block's output now, stored when the block returns without error. The key is any object
    /// (endpoint, model, messages, settings, and a repeat number to keep k samples of one prompt apart); two
    /// keys are equal when their JSON with sorted property names is.
    /// </summary>
    public object? Cached(object key, object block) =>
        (Calls ?? throw new InvalidOperationException("$CheckpointContext.Cached works inside a run's block.")).Call(this, key, block);

    internal void CountCacheHit(decimal wouldCost)
    {
        CacheHits++;
        CachedCost += wouldCost;
    }
}
