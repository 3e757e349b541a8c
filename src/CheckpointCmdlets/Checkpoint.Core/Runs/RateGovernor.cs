using System;
using System.Diagnostics;
using System.Globalization;
using System.Threading;
using System.Threading.RateLimiting;

namespace Checkpoint.Runs;

/// <summary>
/// The run's one gate for starting calls, shared by every worker: -RateLimit (requests per minute) and
/// -TokenRateLimit (tokens per minute, debited from the usage samples report), a run-wide pause after a 429,
/// and the number of attempts in flight, which a 429 halves and successes raise by one per round (AIMD), up
/// to -ThrottleLimit. Thread-safe.
/// </summary>
/// <remarks>
/// A 429 lowers the concurrency and pauses the run only when its request started after the last decrease or
/// pause: the requests already in flight when the server pushed back say the same thing again, and counting
/// each of them (or letting each Retry-After extend the pause) would pin the run at its lowest concurrency.
/// </remarks>
internal sealed class RateGovernor : IDisposable
{
    // The pause after a 429 without Retry-After: doubled for each further round of them, reset by a success.
    private static readonly TimeSpan s_firstAdaptivePause = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan s_poll = TimeSpan.FromMilliseconds(100);

    private readonly object _gate = new();
    private readonly TokenBucketRateLimiter? _requests;
    private readonly TokenBucketRateLimiter? _tokens;
    private readonly int _tokenBurst;
    private readonly int _max;
    private readonly TimeSpan _maxPause;
    private readonly TimeSpan _maxThrottled;
    private readonly string _runId;
    private double _limit;
    private int _inFlight;
    private long _started;
    private long _decreasedAt;
    private long _pausedAt;
    private long _pauseUntil;
    private long? _throttledSince;
    private TimeSpan _adaptivePause = s_firstAdaptivePause;
    private int _rateLimited;
    private long _debt;
    private long _requestsTaken;
    private volatile bool _perCall;

    public RateGovernor(RunDefinition definition, string runId)
    {
        _max = definition.ThrottleLimit;
        _limit = _max;
        _maxPause = definition.MaxRetryDelay;
        _maxThrottled = definition.MaxOutage;
        _runId = runId;
        _requests = definition.RateLimit is int requests ? NewBucket(requests) : null;
        if (definition.TokenRateLimit is int tokens)
        {
            _tokens = NewBucket(tokens);
            _tokenBurst = BurstOf(tokens);
        }

        // A block that says it calls WaitForRate takes its requests there; see TakesRequestPerCall.
        _perCall = definition.BlockText?.IndexOf(nameof(SampleContext.WaitForRate), StringComparison.OrdinalIgnoreCase) >= 0;
    }

    /// <summary>The attempts that may be in flight now.</summary>
    public int Concurrency
    {
        get
        {
            lock (_gate)
            {
                return (int)_limit;
            }
        }
    }

    /// <summary>The requests taken so far: one per attempt, or one per call of a block that takes its own.</summary>
    public long RequestsTaken => Interlocked.Read(ref _requestsTaken);

    /// <summary>The 429s seen so far.</summary>
    public int RateLimitedCount => Volatile.Read(ref _rateLimited);

    /// <summary>
    /// True once the run knows that its block calls <see cref="SampleContext.WaitForRate()"/> (its text names
    /// it, or it called it): each call then takes a request, and attempts take none of their own.
    /// </summary>
    public bool TakesRequestPerCall => _perCall;

    /// <summary>
    /// Waits until an attempt may start: no 429 pause, a place among the attempts in flight, the tokens spent
    /// paid back, and (unless the block takes its own per call) a request. Returns the attempt's place in the
    /// order of starts, for <see cref="Exit"/>. Throws ApiOutage once only 429s came for -MaxOutageMinutes.
    /// </summary>
    public Ticket Enter(CancellationToken cancellationToken)
    {
        long order;
        lock (_gate)
        {
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                CheckThrottledTooLong();
                long wait = _pauseUntil - Stopwatch.GetTimestamp();
                if (wait > 0)
                {
                    Monitor.Wait(_gate, Min(TimeSpan.FromTicks(wait * TimeSpan.TicksPerSecond / Stopwatch.Frequency), s_poll));
                    continue;
                }

                if (_inFlight >= (int)_limit)
                {
                    Monitor.Wait(_gate, s_poll);
                    continue;
                }

                _inFlight++;
                order = ++_started;
                break;
            }
        }

        var ticket = new Ticket(order, requestTaken: !_perCall);
        try
        {
            ticket.Reserved = TakeTokens(1, cancellationToken);
            if (ticket.RequestTaken)
            {
                TakeRequest(cancellationToken);
            }
        }
        catch
        {
            Exit(ticket, throttled: false, succeeded: false, retryAfter: null);
            throw;
        }

        return ticket;
    }

    /// <summary>
    /// For a block's call: waits out a 429 pause and the tokens spent, takes a request (unless the attempt's
    /// own, taken as it started, is still unused) and reserves <paramref name="estimatedTokens"/>.
    /// </summary>
    public void BeforeCall(Ticket ticket, long estimatedTokens, CancellationToken cancellationToken)
    {
        _perCall = true;
        bool useAttemptsRequest;
        lock (_gate)
        {
            useAttemptsRequest = ticket.RequestTaken;
            ticket.RequestTaken = false;
        }

        long more = 0;
        if (!useAttemptsRequest)
        {
            // A later call of the attempt: it starts only as a new attempt would.
            WaitOutPause(cancellationToken);
            TakeRequest(cancellationToken);
            more = TakeTokens(Math.Max(1, estimatedTokens), cancellationToken);
        }
        else if (estimatedTokens > ticket.Reserved)
        {
            more = TakeTokens(estimatedTokens - ticket.Reserved, cancellationToken);
        }

        if (more > 0)
        {
            lock (_gate)
            {
                ticket.Reserved += more;
            }
        }
    }

    /// <summary>Debits tokens an attempt reported, from what it reserved first.</summary>
    public void Debit(Ticket ticket, long tokens)
    {
        if (_tokens is null || tokens <= 0)
        {
            return;
        }

        lock (_gate)
        {
            long fromReserved = Math.Min(tokens, ticket.Reserved);
            ticket.Reserved -= fromReserved;
            _debt += tokens - fromReserved;
        }
    }

    /// <summary>
    /// Ends an attempt: frees its place, gives back the tokens it reserved and did not use, and takes in how it
    /// ended. A 429 counts, halves the concurrency and pauses new starts for <paramref name="retryAfter"/>
    /// (capped by -MaxRetryDelaySeconds), once per round of requests; a success raises the concurrency.
    /// </summary>
    public void Exit(Ticket ticket, bool throttled, bool succeeded, TimeSpan? retryAfter)
    {
        lock (_gate)
        {
            _inFlight--;
            // Tokens reserved and not used go back, up to a burst's worth: a bucket holds no more.
            _debt = Math.Max(_debt - ticket.Reserved, -_tokenBurst);
            ticket.Reserved = 0;
            if (throttled)
            {
                _rateLimited++;
                long now = Stopwatch.GetTimestamp();
                _throttledSince ??= now;
                if (ticket.Order > _decreasedAt)
                {
                    _limit = Math.Max(1, Math.Floor(_limit / 2));
                    _decreasedAt = _started;
                }

                if (ticket.Order > _pausedAt)
                {
                    TimeSpan pause = Min(retryAfter ?? _adaptivePause, _maxPause);
                    if (retryAfter is null)
                    {
                        _adaptivePause = Min(TimeSpan.FromTicks(_adaptivePause.Ticks * 2), _maxPause);
                    }

                    _pauseUntil = Math.Max(_pauseUntil, now + (long)(pause.TotalSeconds * Stopwatch.Frequency));
                    _pausedAt = _started;
                }
            }
            else if (succeeded)
            {
                _throttledSince = null;
                _adaptivePause = s_firstAdaptivePause;
                _limit = Math.Min(_max, _limit + (1.0 / Math.Floor(_limit)));
            }

            Monitor.PulseAll(_gate);
        }
    }

    public void Dispose()
    {
        _requests?.Dispose();
        _tokens?.Dispose();
    }

    // A second's worth of the limit may start at once, as providers enforce a per-minute limit over shorter
    // windows; it refills in steps of at least 50 ms, which the limiter's timer can keep.
    private static TokenBucketRateLimiter NewBucket(int perMinute)
    {
        int step = Math.Max(1, (int)Math.Ceiling(perMinute / 60.0 / 20));
        return new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = BurstOf(perMinute),
            TokensPerPeriod = step,
            ReplenishmentPeriod = TimeSpan.FromTicks((long)(TimeSpan.TicksPerMinute * (double)step / perMinute)),
            QueueLimit = int.MaxValue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            AutoReplenishment = true,
        });
    }

    private static int BurstOf(int perMinute) => Math.Max(1, perMinute / 60);

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private void TakeRequest(CancellationToken cancellationToken)
    {
        Take(_requests, 1, cancellationToken);
        Interlocked.Increment(ref _requestsTaken);
    }

    private static void Take(RateLimiter? limiter, int permits, CancellationToken cancellationToken)
    {
        if (limiter is null)
        {
            return;
        }

        using RateLimitLease lease = limiter.AcquireAsync(permits, cancellationToken).AsTask().GetAwaiter().GetResult();
        if (!lease.IsAcquired)
        {
            throw new InvalidOperationException("The rate limiter refused a request it should have queued.");
        }
    }

    // Pays the tokens reported beyond what was reserved, a burst at a time (every new call waits behind the
    // debt), then takes <paramref name="count"/> more, at most a burst; returns how many it took.
    private long TakeTokens(long count, CancellationToken cancellationToken)
    {
        if (_tokens is null)
        {
            return 0;
        }

        while (true)
        {
            long chunk;
            lock (_gate)
            {
                chunk = Math.Min(_debt, _tokenBurst);
                _debt -= Math.Max(0, chunk);
            }

            if (chunk <= 0)
            {
                break;
            }

            try
            {
                Take(_tokens, (int)chunk, cancellationToken);
            }
            catch
            {
                lock (_gate)
                {
                    _debt += chunk;
                }

                throw;
            }
        }

        int take = (int)Math.Min(count, _tokenBurst);
        Take(_tokens, take, cancellationToken);
        return take;
    }

    private void WaitOutPause(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                long wait = _pauseUntil - Stopwatch.GetTimestamp();
                if (wait <= 0)
                {
                    return;
                }

                Monitor.Wait(_gate, Min(TimeSpan.FromTicks(wait * TimeSpan.TicksPerSecond / Stopwatch.Frequency), s_poll));
            }
        }
    }

    // Only 429s, no success, for -MaxOutageMinutes: the API refuses this key; the run stops as in an outage.
    private void CheckThrottledTooLong()
    {
        if (_throttledSince is not long since)
        {
            return;
        }

        TimeSpan throttled = TimeSpan.FromSeconds((Stopwatch.GetTimestamp() - since) / (double)Stopwatch.Frequency);
        if (throttled < _maxThrottled)
        {
            return;
        }

        throw new CheckpointException(
            ErrorIds.ApiOutage,
            string.Format(
                CultureInfo.InvariantCulture,
                "The API has answered only 429 (Too Many Requests) for {0:0.#} min (-MaxOutageMinutes {1:0.#}). The run stopped; every result is kept and the samples not finished are pending. Check the key's rate limits and -RateLimit, then Resume-CheckpointRun.",
                throttled.TotalMinutes,
                _maxThrottled.TotalMinutes))
        { Target = _runId };
    }

    /// <summary>One attempt's place in the run's starts, and what it holds of the limits.</summary>
    internal sealed class Ticket
    {
        public Ticket(long order, bool requestTaken)
        {
            Order = order;
            RequestTaken = requestTaken;
        }

        /// <summary>The attempt's place in the order of starts.</summary>
        public long Order { get; }

        /// <summary>True while the request the attempt took as it started is not yet used by a call.</summary>
        public bool RequestTaken { get; set; }

        /// <summary>Tokens taken for the attempt's calls and not yet matched by reported usage.</summary>
        public long Reserved { get; set; }
    }
}
