using System;
using System.Diagnostics;
using System.Globalization;
using System.Threading;

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
    private readonly RateBucket? _requests;
    private readonly RateBucket? _tokens;
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
    private long _tokensReported;
    private long _usageReports;
    private volatile bool _perCall;

    public RateGovernor(RunDefinition definition, string runId)
    {
        _max = definition.ThrottleLimit;
        _limit = _max;
        _maxPause = definition.MaxRetryDelay;
        _maxThrottled = definition.MaxOutage;
        _runId = runId;
        _requests = definition.RateLimit is int requests ? new RateBucket(requests) : null;
        if (definition.TokenRateLimit is int tokens)
        {
            _tokens = new RateBucket(tokens);
            _tokenBurst = _tokens.Burst;
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
                    Monitor.Wait(_gate, Min(TimeSpan.FromSeconds(wait / (double)Stopwatch.Frequency), s_poll));
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
            ticket.Reserved = _tokens is null ? 0 : TakeTokens(UsualTokens(), cancellationToken);
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
            more = TakeTokens(estimatedTokens > 0 ? estimatedTokens : UsualTokens(), cancellationToken);
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
            _tokensReported += tokens;
            _usageReports++;
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

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private void TakeRequest(CancellationToken cancellationToken)
    {
        _requests?.Take(1, cancellationToken);
        Interlocked.Increment(ref _requestsTaken);
    }

    // What a call reserves of -TokenRateLimit when its block gives no estimate: the usage the run's calls have
    // reported so far, on average, or one token before any has. Without it, the calls in flight, whose usage
    // is not known yet, would all start on the same spare tokens and overshoot the limit.
    private long UsualTokens()
    {
        lock (_gate)
        {
            return _usageReports == 0 ? 1 : Math.Max(1, _tokensReported / _usageReports);
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
                _tokens.Take((int)chunk, cancellationToken);
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
        _tokens.Take(take, cancellationToken);
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

                Monitor.Wait(_gate, Min(TimeSpan.FromSeconds(wait / (double)Stopwatch.Frequency), s_poll));
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
