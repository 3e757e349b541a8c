namespace Checkpoint.Commands.Internal;

/// <summary>The names under which a run's settings are kept in its state file, for Resume-CheckpointRun.</summary>
internal static class RunSettings
{
    public const string Process = "process";
    public const string CheckpointEvery = "checkpoint_every";
    public const string MaxRetries = "max_retries";
    public const string ThrottleLimit = "throttle_limit";
    public const string TimeoutSeconds = "timeout_seconds";
}
