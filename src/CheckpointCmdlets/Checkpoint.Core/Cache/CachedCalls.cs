using System;
using System.Collections.Concurrent;
using System.Diagnostics;
using Checkpoint.Costs;
using Checkpoint.Runs;

namespace Checkpoint.Cache;

/// <summary>
/// <see cref="SampleContext.Cached"/> for one run: the key's hash, the stored output on a hit (counted as
/// cached, at what it would cost at the run's price), else the block run once for every worker that asks
/// for the key at the same time, and its output stored when it returns without error. Without a store
/// (-NoCache) the block just runs.
/// </summary>
internal sealed class CachedCalls
{
    private readonly CacheStore? _store;
    private readonly ModelPrice? _price;
    private readonly ICacheHost _host;
    private readonly ConcurrentDictionary<string, bool> _secretsWarned = new(StringComparer.OrdinalIgnoreCase);

    public CachedCalls(CacheStore? store, ModelPrice? price, ICacheHost host)
    {
        _store = store;
        _price = price;
        _host = host;
    }

    /// <summary>The store, or null with -NoCache.</summary>
    public CacheStore? Store => _store;

    /// <summary>The output of <paramref name="block"/> for <paramref name="key"/>, stored or made now.</summary>
    public object? Call(SampleContext context, object key, object block)
    {
        if (key is null)
        {
            throw new ArgumentNullException(nameof(key), "Cached needs a key: the object that says what the call asks (endpoint, model, messages, settings).");
        }

        if (block is null)
        {
            throw new ArgumentNullException(nameof(block), "Cached needs a script block that makes the call.");
        }

        CacheKey cacheKey = CacheKey.FromJson(_host.KeyJson(key));
        foreach (string name in cacheKey.SecretNames)
        {
            if (_secretsWarned.TryAdd(name, true))
            {
                _host.Warn($"A cache key has a property '{name}', named like a secret: the key's hash is stored, and a key that changes with a credential misses whenever it changes. Keep keys and tokens in the request's headers, out of the key.");
            }
        }

        if (_store is null)
        {
            return _host.Restore(_host.Invoke(block));
        }

        CacheEntry entry = _store.GetOrCall(cacheKey.Hash, () => Miss(context, cacheKey, block), out bool hit);
        foreach (string warning in _store.TakeWarnings())
        {
            _host.Warn(warning);
        }

        if (hit)
        {
            context.CountCacheHit(WouldCost(entry));
        }

        return _host.Restore(entry.OutputJson);
    }

    // The call made: its output, and the usage the block reported while it ran.
    private CacheEntry Miss(SampleContext context, CacheKey key, object block)
    {
        long? input = context.InputTokens, output = context.OutputTokens;
        decimal? cost = context.Cost;
        var started = DateTimeOffset.UtcNow;
        var timer = Stopwatch.StartNew();
        string? json = _host.Invoke(block);
        return new CacheEntry
        {
            Key = key.Stored,
            OutputJson = json,
            InputTokens = context.InputTokens is long i ? i - (input ?? 0) : null,
            OutputTokens = context.OutputTokens is long o ? o - (output ?? 0) : null,
            Cost = context.Cost is decimal c ? c - (cost ?? 0) : null,
            CreatedAt = started,
            DurationMs = timer.Elapsed.TotalMilliseconds,
        };
    }

    // At the run's price when the entry's tokens are known (from AddUsage, or a usage in the output); else what the call cost.
    private decimal WouldCost(CacheEntry entry)
    {
        (long? input, long? output) = entry.InputTokens is not null || entry.OutputTokens is not null
            ? (entry.InputTokens, entry.OutputTokens)
            : UsageExtractor.FromOutput(entry.OutputJson);
        return _price is not null && (input is not null || output is not null)
            ? _price.CostOf(input ?? 0, output ?? 0)
            : entry.Cost ?? 0;
    }
}
