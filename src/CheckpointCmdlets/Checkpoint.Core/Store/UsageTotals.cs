namespace Checkpoint.Store;

/// <summary>Tokens and cost summed over every record of a run: every attempt, failed ones included.</summary>
public sealed class UsageTotals
{
    /// <summary>Input (prompt) tokens.</summary>
    public long InputTokens { get; private set; }

    /// <summary>Output (completion) tokens.</summary>
    public long OutputTokens { get; private set; }

    /// <summary>Cost, in the pricing's currency.</summary>
    public decimal Cost { get; private set; }

    /// <summary>Calls taken from the response cache instead of being paid for.</summary>
    public long CacheHits { get; private set; }

    /// <summary>What those calls would have cost at the prices of the runs that took them.</summary>
    public decimal CachedCost { get; private set; }

    internal void AddCached(long hits, decimal cost)
    {
        CacheHits += hits;
        CachedCost += cost;
    }

    internal void Add(long input, long output, decimal cost)
    {
        InputTokens += input;
        OutputTokens += output;
        Cost += cost;
    }
}
