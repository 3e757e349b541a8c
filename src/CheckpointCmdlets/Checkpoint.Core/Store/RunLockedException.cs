namespace Checkpoint.Store;

/// <summary>Another live process (or another open store in this one) holds the run's lock.</summary>
public sealed class RunLockedException : CheckpointException
{
    /// <summary>Creates the exception for the lock at <paramref name="lockPath"/>.</summary>
    public RunLockedException(string lockPath, LockHolder? holder)
        : base(
            ErrorIds.RunLocked,
            $"The run is in use by {(holder is null ? "another process" : holder.ToString())} (lock '{lockPath}'). Wait for it to finish or stop it; a lock left by a process that died is released by the operating system and never blocks.")
    {
        LockPath = lockPath;
        Holder = holder;
        Target = lockPath;
    }

    /// <summary>The lock file.</summary>
    public string LockPath { get; }

    /// <summary>Who holds it, when that is known.</summary>
    public LockHolder? Holder { get; }
}
