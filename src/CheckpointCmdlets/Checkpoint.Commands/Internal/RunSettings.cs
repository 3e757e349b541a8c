namespace Checkpoint.Commands.Internal;

/// <summary>The names under which a run's settings are kept in its state file, for Resume-CheckpointRun.</summary>
internal static class RunSettings
{
    public const string Process = "process";
    public const string CheckpointEvery = "checkpoint_every";
    public const string MaxRetries = "max_retries";
    public const string ThrottleLimit = "throttle_limit";
    public const string TimeoutSeconds = "timeout_seconds";
    public const string RetryDelaySeconds = "retry_delay_seconds";
    public const string MaxRetryDelaySeconds = "max_retry_delay_seconds";
    public const string RetryOn = "retry_on";
    public const string NoRetryOn = "no_retry_on";
    public const string MaxConsecutiveFailures = "max_consecutive_failures";
    public const string MaxOutageMinutes = "max_outage_minutes";
    public const string OutageWaitSeconds = "outage_wait_seconds";
    public const string ImportModule = "import_module";
    public const string Pricing = "pricing";
    public const string PricingFile = "pricing_file";
    public const string MaxCost = "max_cost";
}
