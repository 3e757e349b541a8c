namespace Checkpoint.Store;

/// <summary>What reading a state file found.</summary>
public enum StateReadStatus
{
    /// <summary>The file is whole and its checksum matches.</summary>
    Valid,

    /// <summary>There is no state file.</summary>
    Missing,

    /// <summary>The file cannot be parsed.</summary>
    Damaged,

    /// <summary>The file parses, but its checksum does not match: it was edited outside the module.</summary>
    ChangedOutside,
}

/// <summary>The outcome of <see cref="StateFile.Read"/>.</summary>
public sealed class StateReadResult
{
    internal StateReadResult(StateReadStatus status, RunState? state, string? problem)
    {
        Status = status;
        State = state;
        Problem = problem;
    }

    /// <summary>What was found.</summary>
    public StateReadStatus Status { get; }

    /// <summary>The state, when the file could be parsed.</summary>
    public RunState? State { get; }

    /// <summary>What was wrong, or null.</summary>
    public string? Problem { get; }
}
