namespace Checkpoint.Store;

/// <summary>Another live process (or another open store in this one) holds the run part, or a part that overlaps it.</summary>
public sealed class RunLockedException : CheckpointException
{
    /// <summary>Creates the exception for the part whose lease is at <paramref name="lockPath"/>.</summary>
    public RunLockedException(string lockPath, LockHolder? holder)
        : this(
            lockPath,
            holder,
            $"The run is in use by {(holder is null ? "another process" : holder.ToString())} (lease '{lockPath}'). Wait for it to finish or stop it. A lease left by a process that died on this machine is taken over at once; one left by another machine, once it has gone {LeaseOptions.TimeoutVariable} seconds (30 by default) without renewal.")
    {
    }

    /// <summary>Creates the exception with a message of its own (an overlapping part, say).</summary>
    public RunLockedException(string lockPath, LockHolder? holder, string message)
        : base(ErrorIds.RunLocked, message)
    {
        LockPath = lockPath;
        Holder = holder;
        Target = lockPath;
    }

    /// <summary>The lease file of the part in use.</summary>
    public string LockPath { get; }

    /// <summary>Who holds it, when that is known.</summary>
    public LockHolder? Holder { get; }
}
