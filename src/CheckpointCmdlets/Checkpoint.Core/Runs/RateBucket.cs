using System;
using System.Threading;
using System.Threading.RateLimiting;

namespace Checkpoint.Runs;

/// <summary>
/// One per-minute limit as a .NET token bucket: a second's worth of it may be taken at once, as providers
/// enforce a minute's limit over shorter windows. It refills a token at a time, or in steps of at least 10 ms
/// for a limit above 100 a second, which the limiter's timer can keep. Takers wait in the order they came.
/// Thread-safe.
/// </summary>
/// <remarks>
/// <para>The only type that names System.Threading.RateLimiting, so that a run without limits never loads it.</para>
/// <para>
/// It starts half full. A run's first requests reach the server spread out (each worker opens its connection),
/// and while they trickle in the server's own bucket stays full and wastes its refill; a client bucket that
/// started full would then be ahead of the server by about that much, and its first second's requests would
/// meet 429s. Refilling a token at a time, rather than several, keeps it from running a step ahead of a
/// server that refills continuously.
/// </para>
/// </remarks>
internal sealed class RateBucket : IDisposable
{
    private readonly TokenBucketRateLimiter _limiter;

    public RateBucket(int perMinute)
    {
        Burst = Math.Max(1, perMinute / 60);
        int step = Math.Max(1, (int)Math.Ceiling(perMinute / 60.0 / 100));
        _limiter = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = Burst,
            TokensPerPeriod = step,
            ReplenishmentPeriod = TimeSpan.FromTicks((long)(TimeSpan.TicksPerMinute * (double)step / perMinute)),
            QueueLimit = int.MaxValue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            AutoReplenishment = true,
        });
        if (Burst / 2 > 0)
        {
            _limiter.AttemptAcquire(Burst / 2).Dispose();
        }
    }

    /// <summary>What the bucket holds when full: the most that one take may ask for.</summary>
    public int Burst { get; }

    /// <summary>Waits until <paramref name="permits"/> (at most <see cref="Burst"/>) can be taken, and takes them.</summary>
    public void Take(int permits, CancellationToken cancellationToken)
    {
        using RateLimitLease lease = _limiter.AcquireAsync(permits, cancellationToken).AsTask().GetAwaiter().GetResult();
        if (!lease.IsAcquired)
        {
            throw new InvalidOperationException("The rate limiter refused a request it should have queued.");
        }
    }

    public void Dispose() => _limiter.Dispose();
}
