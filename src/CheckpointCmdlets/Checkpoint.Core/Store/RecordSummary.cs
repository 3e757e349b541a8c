namespace Checkpoint.Store;

/// <summary>What the loader keeps of a record without parsing its output: enough for stats and resume.</summary>
internal readonly struct RecordSummary
{
    public RecordSummary(int version, string sampleId, RecordStatus status, bool final, int attempt, long completedAtTicks, string? shard, long inputTokens = 0, long outputTokens = 0, decimal cost = 0, int cacheHits = 0, decimal cachedCost = 0)
    {
        CacheHits = cacheHits;
        CachedCost = cachedCost;
        InputTokens = inputTokens;
        OutputTokens = outputTokens;
        Cost = cost;
        Version = version;
        SampleId = sampleId;
        Status = status;
        Final = final;
        Attempt = attempt;
        CompletedAtTicks = completedAtTicks;
        Shard = shard;
    }

    public int Version { get; }

    public string SampleId { get; }

    public RecordStatus Status { get; }

    public bool Final { get; }

    public long InputTokens { get; }

    public long OutputTokens { get; }

    public decimal Cost { get; }

    /// <summary>Calls the attempt took from the response cache.</summary>
    public int CacheHits { get; }

    /// <summary>What those calls would have cost.</summary>
    public decimal CachedCost { get; }

    public int Attempt { get; }

    public long CompletedAtTicks { get; }

    public string? Shard { get; }
}
