using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using Checkpoint.IO;
using Checkpoint.Sharding;

namespace Checkpoint.Store;

/// <summary>
/// What makes one process the only writer of a run part: the OS lock on <c>{base}.lock</c> (a share-mode lock
/// on Windows, an advisory <c>flock</c> on Unix), which refuses a second writer on the same machine at once,
/// and the lease in <c>{base}.lock.json</c>, which also holds across the nodes of a shared file system, where
/// the OS lock may be seen by one node alone or do nothing. A writer calls <see cref="Verify"/> before each
/// write; once the lease is lost, nothing more is written. Nothing here is taken to read a run.
/// </summary>
public sealed class RunLock : IDisposable
{
    // How often Acquire opens the lock file again when it was deleted or replaced after the open.
    private const int MaxReopens = 10;

    private static int s_warnedIneffective;

    private readonly FileStream _osLock;

    private RunLock(FileStream osLock, RunLease lease)
    {
        _osLock = osLock;
        Lease = lease;
    }

    /// <summary>The lease this lock holds.</summary>
    public RunLease Lease { get; }

    /// <summary>
    /// Takes the part's OS lock and its lease, or throws <see cref="RunLockedException"/> naming the holder.
    /// Refuses, the same way, a part that overlaps a live part of the same run (an unsharded part overlaps
    /// every shard), unless <paramref name="refuseOverlap"/> is false (a removal, which takes every part). What the caller should know (the OS lock does nothing here, a wait) goes to <paramref name="notify"/>.
    /// </summary>
    public static RunLock Acquire(RunFiles files, LeaseOptions options, Action<string>? notify = null, bool refuseOverlap = true, CancellationToken cancellationToken = default)
    {
        FileStream osLock = OpenOsLock(files, notify);
        RunLease lease;
        try
        {
            lease = RunLease.Acquire(files.LeasePath, options, notify, cancellationToken);
        }
        catch
        {
            osLock.Dispose();
            throw;
        }

        var runLock = new RunLock(osLock, lease);
        try
        {
            if (refuseOverlap)
            {
                RefuseOverlappingLiveParts(files, options);
            }
        }
        catch
        {
            runLock.Dispose();
            throw;
        }

        return runLock;
    }

    /// <summary>
    /// Whether a process holds the part now, and who: from its lease alone, never by taking a lock, so that
    /// a look never stands in a writer's way and works on a read-only copy.
    /// </summary>
    public static (bool Live, LockHolder? Holder) Probe(RunFiles files, LeaseOptions options) => RunLease.Probe(files.LeasePath, options);

    /// <summary>Throws <see cref="ErrorIds.LeaseLost"/> unless this process still holds the part.</summary>
    public void Verify() => Lease.Verify();

    /// <summary>
    /// Deletes the lease and lock files while holding them, last of a run's removal, and returns them. A process
    /// that opened the lock file before it went finds that the file it locked is no longer the one at the path.
    /// </summary>
    public IReadOnlyList<string> DeleteFiles(RunFiles files)
    {
        var deleted = new List<string>();
        Lease.DeleteFile();
        deleted.Add(files.LeasePath);
        // Windows deletes no file that is open without FileShare.Delete: the lock goes first.
        _osLock.Dispose();
        try
        {
            File.Delete(files.LockPath);
            deleted.Add(files.LockPath);
        }
        catch (IOException)
        {
            // Opened again meanwhile: an empty lock file left behind holds nothing.
        }

        return deleted;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Lease.Dispose();
        _osLock.Dispose();
    }

    private static FileStream OpenOsLock(RunFiles files, Action<string>? notify)
    {
        for (int attempt = 0; ; attempt++)
        {
            FileStream stream;
            try
            {
                stream = StaleNames.OpenOrCreate(() => new FileStream(files.LockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None));
            }
            catch (IOException e) when (IoErrors.IsSharingViolation(e))
            {
                throw new RunLockedException(files.LeasePath, RunLease.Probe(files.LeasePath, new LeaseOptions()).Holder);
            }

            // The file locked must be the one at the path: a removal may have deleted it after this open, and a
            // process that locks the new file would hold "the" lock too.
            if (FileIdentity.Of(stream.SafeFileHandle) is FileIdentity.Identity held
                && (FileIdentity.Of(files.LockPath) is not FileIdentity.Identity named || !held.SameFile(named)))
            {
                stream.Dispose();
                if (attempt < MaxReopens)
                {
                    continue;
                }

                throw new RunLockedException(files.LeasePath, RunLease.Probe(files.LeasePath, new LeaseOptions()).Holder);
            }

            WarnIfIneffective(files.LockPath, notify);
            return stream;
        }
    }

    // A second exclusive open that succeeds means the OS lock does nothing here (file locking disabled, or a
    // file system without flock): the lease alone keeps the part to one writer. Said once per process.
    private static void WarnIfIneffective(string path, Action<string>? notify)
    {
        try
        {
            using var probe = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
        }
        catch (IOException)
        {
            return;
        }

        if (Interlocked.Exchange(ref s_warnedIneffective, 1) == 0)
        {
            notify?.Invoke($"The OS lock on '{path}' has no effect here (a second exclusive open succeeded: file locking is off or this file system does not support it). The run's lease alone keeps it to one writer.");
        }
    }

    private static void RefuseOverlappingLiveParts(RunFiles files, LeaseOptions options)
    {
        foreach (RunFiles other in RunParts.DiscoverLeased(files.Directory, files.RunId))
        {
            if (other.BaseName == files.BaseName || !ShardSpec.Overlap(files.Shard, other.Shard))
            {
                continue;
            }

            (bool live, LockHolder? holder) = RunLease.Probe(other.LeasePath, options);
            if (live)
            {
                throw new RunLockedException(
                    other.LeasePath,
                    holder,
                    $"{(files.Shard is null ? "The unsharded run" : "Shard " + files.Shard)} overlaps {(other.Shard is null ? "the unsharded run" : "shard " + other.Shard)} of run '{files.RunId}', which {(holder is null ? "another process" : holder.ToString())} is running: both would pay for the same samples. Wait for it to finish, or start a part that does not overlap it.");
            }
        }
    }
}
