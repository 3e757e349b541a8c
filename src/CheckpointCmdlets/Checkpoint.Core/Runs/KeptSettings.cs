using System.Collections.Generic;

namespace Checkpoint.Runs;

/// <summary>
/// The settings a run keeps in its state file, so that a resume runs as the start did: the default and the
/// range of each, which the cmdlets' parameters declare with these constants and which a resume holds a kept
/// value to, and (internally) the key each is kept under and the parameter that sets it.
/// </summary>
public static class KeptSettings
{
    /// <summary>The default of -CheckpointEvery.</summary>
    public const int CheckpointEveryDefault = 10;

    /// <summary>The least -CheckpointEvery.</summary>
    public const int CheckpointEveryMin = 1;

    /// <summary>The greatest -CheckpointEvery.</summary>
    public const int CheckpointEveryMax = int.MaxValue;

    /// <summary>The default of -MaxRetries.</summary>
    public const int MaxRetriesDefault = 3;

    /// <summary>The least -MaxRetries.</summary>
    public const int MaxRetriesMin = 0;

    /// <summary>The greatest -MaxRetries.</summary>
    public const int MaxRetriesMax = 1000;

    /// <summary>The default of -ThrottleLimit: one sample at a time, on the caller's thread.</summary>
    public const int ThrottleLimitDefault = 1;

    /// <summary>The least -ThrottleLimit.</summary>
    public const int ThrottleLimitMin = 1;

    /// <summary>The greatest -ThrottleLimit.</summary>
    public const int ThrottleLimitMax = 1024;

    /// <summary>The default of -TimeoutSeconds: no limit.</summary>
    public const double TimeoutSecondsDefault = 0;

    /// <summary>The least -TimeoutSeconds that can be given.</summary>
    public const double TimeoutSecondsMin = 0.001;

    /// <summary>The greatest -TimeoutSeconds, a week.</summary>
    public const double TimeoutSecondsMax = 86400.0 * 7;

    /// <summary>The default of -RetryDelaySeconds.</summary>
    public const double RetryDelaySecondsDefault = 1;

    /// <summary>The least -RetryDelaySeconds.</summary>
    public const double RetryDelaySecondsMin = 0.0;

    /// <summary>The greatest -RetryDelaySeconds, an hour.</summary>
    public const double RetryDelaySecondsMax = 3600.0;

    /// <summary>The default of -MaxRetryDelaySeconds.</summary>
    public const double MaxRetryDelaySecondsDefault = 120;

    /// <summary>The least -MaxRetryDelaySeconds.</summary>
    public const double MaxRetryDelaySecondsMin = 0.0;

    /// <summary>The greatest -MaxRetryDelaySeconds, a day.</summary>
    public const double MaxRetryDelaySecondsMax = 86400.0;

    /// <summary>The default of -MaxConsecutiveFailures.</summary>
    public const int MaxConsecutiveFailuresDefault = 10;

    /// <summary>The least -MaxConsecutiveFailures.</summary>
    public const int MaxConsecutiveFailuresMin = 1;

    /// <summary>The greatest -MaxConsecutiveFailures.</summary>
    public const int MaxConsecutiveFailuresMax = int.MaxValue;

    /// <summary>The default of -MaxOutageMinutes.</summary>
    public const double MaxOutageMinutesDefault = 10;

    /// <summary>The least -MaxOutageMinutes.</summary>
    public const double MaxOutageMinutesMin = 0.0;

    /// <summary>The greatest -MaxOutageMinutes, a week.</summary>
    public const double MaxOutageMinutesMax = 10080.0;

    /// <summary>The default of -OutageWaitSeconds.</summary>
    public const double OutageWaitSecondsDefault = 30;

    /// <summary>The least -OutageWaitSeconds.</summary>
    public const double OutageWaitSecondsMin = 0.0;

    /// <summary>The greatest -OutageWaitSeconds, a day.</summary>
    public const double OutageWaitSecondsMax = 86400.0;

    /// <summary>The default of -MaxCost: no budget.</summary>
    public const double MaxCostDefault = 0;

    /// <summary>The least -MaxCost that can be given.</summary>
    public const double MaxCostMin = 1e-9;

    /// <summary>The greatest -MaxCost.</summary>
    public const double MaxCostMax = double.MaxValue;

    /// <summary>The default of -RateLimit and -TokenRateLimit: no limit.</summary>
    public const int RateLimitDefault = 0;

    /// <summary>The least -RateLimit (requests per minute) and -TokenRateLimit (tokens per minute).</summary>
    public const int RateLimitMin = 1;

    /// <summary>The greatest -RateLimit and -TokenRateLimit.</summary>
    public const int RateLimitMax = int.MaxValue;

    /// <summary>The parameter that gives a run its block, kept as text under <c>process</c>.</summary>
    public const string BlockParameter = "Process";

    /// <summary>The key under which the block's text is kept.</summary>
    internal const string BlockKey = "process";

    /// <summary>
    /// Every kept setting, in the order a resume checks them. The keys are the state file's and never change:
    /// a state file written by any release must still be read.
    /// </summary>
    internal static IReadOnlyList<KeptSetting> All { get; } = new[]
    {
        KeptSetting.Text(BlockKey, BlockParameter, d => d.BlockText, (d, v) => d.BlockText = v),
        KeptSetting.Int("checkpoint_every", "CheckpointEvery", CheckpointEveryDefault, CheckpointEveryMin, CheckpointEveryMax, d => d.CheckpointEvery, (d, v) => d.CheckpointEvery = v),
        KeptSetting.Int("max_retries", "MaxRetries", MaxRetriesDefault, MaxRetriesMin, MaxRetriesMax, d => d.MaxRetries, (d, v) => d.MaxRetries = v),
        KeptSetting.Int("throttle_limit", "ThrottleLimit", ThrottleLimitDefault, ThrottleLimitMin, ThrottleLimitMax, d => d.ThrottleLimit, (d, v) => d.ThrottleLimit = v),
        KeptSetting.Number("timeout_seconds", "TimeoutSeconds", TimeoutSecondsDefault, TimeoutSecondsMin, TimeoutSecondsMax, d => d.TimeoutSeconds ?? TimeoutSecondsDefault, (d, v) => d.TimeoutSeconds = v == TimeoutSecondsDefault ? null : v),
        KeptSetting.Number("retry_delay_seconds", "RetryDelaySeconds", RetryDelaySecondsDefault, RetryDelaySecondsMin, RetryDelaySecondsMax, d => d.RetryDelaySeconds, (d, v) => d.RetryDelaySeconds = v),
        KeptSetting.Number("max_retry_delay_seconds", "MaxRetryDelaySeconds", MaxRetryDelaySecondsDefault, MaxRetryDelaySecondsMin, MaxRetryDelaySecondsMax, d => d.MaxRetryDelaySeconds, (d, v) => d.MaxRetryDelaySeconds = v),
        KeptSetting.Texts("retry_on", "RetryOn", d => d.RetryOn, (d, v) => d.RetryOn = v),
        KeptSetting.Texts("no_retry_on", "NoRetryOn", d => d.NoRetryOn, (d, v) => d.NoRetryOn = v),
        KeptSetting.Int("max_consecutive_failures", "MaxConsecutiveFailures", MaxConsecutiveFailuresDefault, MaxConsecutiveFailuresMin, MaxConsecutiveFailuresMax, d => d.MaxConsecutiveFailures, (d, v) => d.MaxConsecutiveFailures = v),
        KeptSetting.Number("max_outage_minutes", "MaxOutageMinutes", MaxOutageMinutesDefault, MaxOutageMinutesMin, MaxOutageMinutesMax, d => d.MaxOutageMinutes, (d, v) => d.MaxOutageMinutes = v),
        KeptSetting.Number("outage_wait_seconds", "OutageWaitSeconds", OutageWaitSecondsDefault, OutageWaitSecondsMin, OutageWaitSecondsMax, d => d.OutageWaitSeconds, (d, v) => d.OutageWaitSeconds = v),
        KeptSetting.Texts("import_module", "ImportModule", d => d.ImportModule, (d, v) => d.ImportModule = v),
        KeptSetting.Table("pricing", "Pricing", d => d.Pricing, (d, v) => d.Pricing = v),
        KeptSetting.Text("pricing_file", "PricingFile", d => d.PricingFile, (d, v) => d.PricingFile = v),
        KeptSetting.Money("max_cost", "MaxCost", MaxCostDefault, MaxCostMin, MaxCostMax, d => d.MaxCost ?? 0m, (d, v) => d.MaxCost = v == 0m ? null : v),

        // The rate limits of this process (0: none).
        KeptSetting.Int("rate_limit", "RateLimit", RateLimitDefault, RateLimitMin, RateLimitMax, d => d.RateLimit ?? RateLimitDefault, (d, v) => d.RateLimit = v == RateLimitDefault ? null : v),
        KeptSetting.Int("token_rate_limit", "TokenRateLimit", RateLimitDefault, RateLimitMin, RateLimitMax, d => d.TokenRateLimit ?? RateLimitDefault, (d, v) => d.TokenRateLimit = v == RateLimitDefault ? null : v),

        // The response cache: where it is (null: <OutputDirectory>/cache), and whether it is off.
        KeptSetting.Text("cache_directory", "CacheDirectory", d => d.CacheDirectory, (d, v) => d.CacheDirectory = v),
        KeptSetting.Flag("no_cache", "NoCache", d => d.NoCache, (d, v) => d.NoCache = v),
    };
}
