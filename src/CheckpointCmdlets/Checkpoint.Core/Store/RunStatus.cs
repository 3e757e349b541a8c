namespace Checkpoint.Store;

/// <summary>Where a run stands.</summary>
public enum RunStatus
{
    /// <summary>A process is working on it (or died while it was; the lock tells which).</summary>
    Running,

    /// <summary>Every sample is completed.</summary>
    Completed,

    /// <summary>The run ended with samples pending or failed.</summary>
    Incomplete,

    /// <summary>The run was stopped (Ctrl+C, SIGTERM) before it ended.</summary>
    Interrupted,

    /// <summary>The run stopped because its total cost reached -MaxCost; resume it with a higher budget.</summary>
    BudgetReached,
}
