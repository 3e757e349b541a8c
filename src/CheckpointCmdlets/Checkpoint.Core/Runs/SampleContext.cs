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
}
