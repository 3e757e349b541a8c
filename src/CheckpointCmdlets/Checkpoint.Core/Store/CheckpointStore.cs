using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.CompilerServices;
using System.Threading;
using Checkpoint.IO;

namespace Checkpoint.Store;

/// <summary>
/// A run (or shard) open for writing: it holds the run's lock and lease, has loaded and repaired the JSONL
/// (<see cref="StoreRecovery"/>), and owns the single writer, the errors log and the state file. Records reach
/// the file through Append, each handed to the operating system before it returns. Every
/// <see cref="CheckpointEvery"/> records a background thread fsyncs the files and rewrites the state
/// atomically (<see cref="GroupCommit"/>: the appending threads never wait for a disk flush), at most once
/// every <see cref="MinCommitInterval"/>; <see cref="Close"/> takes a
/// last checkpoint in the foreground. A failed checkpoint makes the next append throw. Every write (a record
/// or a batch of them, and each checkpoint) is fenced: it happens only while the lease holds.
/// </summary>
public sealed class CheckpointStore : IDisposable
{
    /// <summary>
    /// The shortest time between two background checkpoints. When records come faster than one checkpoint
    /// per this interval (fast blocks with a small CheckpointEvery), a checkpoint takes every record written
    /// since the last one: an fsync running back to back with the appends slows every write to the file.
    /// </summary>
    public static readonly TimeSpan MinCommitInterval = TimeSpan.FromMilliseconds(50);

    private readonly object _gate = new();

    // Guards the index apart from the append lock, so that a lookup never waits for a write to the file.
    private readonly object _indexGate = new();
    private readonly RunLock _lock;
    private readonly CheckpointWriter _writer;
    private readonly ErrorLog _errorLog;
    private readonly List<string> _warnings;
    private readonly object _commitGate = new();
    private readonly GroupCommit _groupCommit;
    private int _sinceCheckpoint;
    private int _checkpoints;
    private bool _closed;

    private CheckpointStore(RunFiles files, int checkpointEvery, RunLock runLock, CheckpointIndex index, CheckpointWriter writer, StateReadResult stateRead, RunState state, List<string> warnings)
    {
        Files = files;
        CheckpointEvery = checkpointEvery;
        _lock = runLock;
        Index = index;
        _writer = writer;
        _errorLog = new ErrorLog(files.ErrorLogPath);
        StateRead = stateRead;
        State = state;
        _warnings = warnings;
        _groupCommit = new GroupCommit(
            files.BaseName,
            Commit,
            e => new CheckpointException(ErrorIds.CheckpointWriteFailed, $"A checkpoint of '{Files.ResultsPath}' failed: {e.Message}", e) { Target = Files.ResultsPath });
    }

    /// <summary>The run's total cost so far (every record of this file); safe while other threads append.</summary>
    public decimal TotalCost
    {
        get
        {
            lock (_indexGate)
            {
                return Index.Usage.Cost;
            }
        }
    }

    /// <summary>
    /// The entry of <paramref name="sampleId"/> in <see cref="Index"/>, or null; safe while other threads append.
    /// </summary>
    [MethodImpl(JitOptions.Optimized)]
    public SampleEntry? Entry(string sampleId)
    {
        lock (_indexGate)
        {
            return Index.Samples.TryGetValue(sampleId, out SampleEntry entry) ? entry : null;
        }
    }

    /// <summary>How many checkpoints (fsync and state write) have completed since the store opened.</summary>
    public int CheckpointsCompleted => Volatile.Read(ref _checkpoints);

    /// <summary>The run's files.</summary>
    public RunFiles Files { get; }

    /// <summary>Records between two checkpoints (fsync and state write).</summary>
    public int CheckpointEvery { get; }

    /// <summary>What the run's JSONL says, kept up to date as records are appended.</summary>
    public CheckpointIndex Index { get; }

    /// <summary>What was found in the state file when the store opened.</summary>
    public StateReadResult StateRead { get; }

    /// <summary>The run's state; its counters follow <see cref="Index"/> at every checkpoint.</summary>
    public RunState State { get; }

    /// <summary>What opening found and repaired: damaged tails cut off, bad lines skipped, state rebuilt.</summary>
    public IReadOnlyList<string> Warnings => _warnings;

    /// <summary>
    /// Opens the run for writing: takes its lock and lease (or throws <see cref="RunLockedException"/>; the lease
    /// options come from the environment unless given, and <paramref name="notify"/> hears of a wait for a
    /// lease that missed its renewal), loads the JSONL, moves a damaged tail into a sidecar file and cuts it
    /// off, and reads or rebuilds the state (<see cref="StoreRecovery"/>). The index is
    /// sized for <paramref name="expectedSamples"/> (the dataset's count) from the start.
    /// </summary>
    public static CheckpointStore Open(RunFiles files, int checkpointEvery = 10, int expectedSamples = 0, LeaseOptions? lease = null, Action<string>? notify = null)
    {
        if (checkpointEvery < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(checkpointEvery), "CheckpointEvery must be at least 1.");
        }

        try
        {
            Directory.CreateDirectory(files.Directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CheckpointException(ErrorIds.OutputDirectoryUnwritable, $"The output directory '{files.Directory}' cannot be created: {e.Message}. Choose another -OutputDirectory or fix its permissions.", e) { Target = files.Directory };
        }

        RunLock runLock = AcquireLock(files, lease ?? LeaseOptions.FromEnvironment(), notify);
        try
        {
            StoreRecovery.Recovered recovered = StoreRecovery.Recover(files, expectedSamples);
            return new CheckpointStore(files, checkpointEvery, runLock, recovered.Index, recovered.Writer, recovered.StateRead, recovered.State, recovered.Warnings);
        }
        catch
        {
            runLock.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Appends one record with one write, then records it in the index and, for a failure, in the errors log.
    /// Returns true when this append asked for a checkpoint, which the background thread then takes.
    /// Thread-safe.
    /// </summary>
    [MethodImpl(JitOptions.Optimized)]
    public bool Append(CheckpointRecord record, string? errorContext = null)
    {
        lock (_gate)
        {
            ThrowIfUnusable();
            Fence();
            (long offset, int length) = _writer.Append(record);
            return Appended(record, errorContext, offset, length);
        }
    }

    /// <summary>
    /// Appends <paramref name="records"/>, in order, with one write, then takes each in as
    /// <see cref="Append(CheckpointRecord, string?)"/> does (the error context is for a failure's entry in the
    /// errors log). Thread-safe.
    /// </summary>
    [MethodImpl(JitOptions.Optimized)]
    public bool Append(IReadOnlyList<(CheckpointRecord Record, string? ErrorContext)> records)
    {
        lock (_gate)
        {
            ThrowIfUnusable();
            Fence();
            var list = new CheckpointRecord[records.Count];
            for (int i = 0; i < list.Length; i++)
            {
                list[i] = records[i].Record;
            }

            var positions = new (long Offset, int Length)[list.Length];
            _writer.Append(list, positions);
            bool asked = false;
            for (int i = 0; i < list.Length; i++)
            {
                asked |= Appended(list[i], records[i].ErrorContext, positions[i].Offset, positions[i].Length);
            }

            return asked;
        }
    }

    /// <summary>Fsyncs the results and the errors log, then rewrites the state with the current counters, now.</summary>
    public void Checkpoint()
    {
        lock (_gate)
        {
            ThrowIfClosed();
        }

        Commit();
    }

    /// <summary>Takes a last checkpoint with <paramref name="status"/>, then releases the files and the lock.</summary>
    public void Close(RunStatus status)
    {
        if (_closed)
        {
            return;
        }

        _groupCommit.Stop();
        try
        {
            lock (_gate)
            {
                State.Status = status;
                if (_lock.Lease.LostReason is not null)
                {
                    // Another process may hold the part now: nothing more is written, not even the state.
                    return;
                }
            }

            Commit();
        }
        finally
        {
            lock (_gate)
            {
                Release();
            }
        }
    }

    /// <summary>Releases the files and the lock without changing the status. Prefer <see cref="Close"/>.</summary>
    public void Dispose()
    {
        _groupCommit.Stop();
        lock (_gate)
        {
            Release();
        }
    }

    private static RunLock AcquireLock(RunFiles files, LeaseOptions lease, Action<string>? notify)
    {
        try
        {
            return RunLock.Acquire(files, lease, notify);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new CheckpointException(ErrorIds.OutputDirectoryUnwritable, $"The output directory '{files.Directory}' cannot be written: {e.Message}. Choose another -OutputDirectory or fix its permissions.", e) { Target = files.Directory };
        }
    }

    // fsync the results and the errors log, then write the state with the counters as they are now. The
    // files' handles and the state's bytes are taken under the append lock; the disk work is done outside it.
    private void Commit()
    {
        lock (_commitGate)
        {
            _writer.Sync();
            Microsoft.Win32.SafeHandles.SafeFileHandle? logHandle;
            byte[] state;
            lock (_gate)
            {
                Fence();
                logHandle = _errorLog.Handle;
                State.CompletedSamples = Index.CompletedCount;
                State.FailedSamples = Index.FailedCount;
                State.ErrorCount = Index.ErrorCount;
                State.LastCheckpoint = DateTimeOffset.UtcNow;
                state = StateFile.Serialize(State);
            }

            if (logHandle is not null)
            {
                WriteErrorLog(() => NativeFile.Fsync(logHandle, _errorLog.Path));
            }

            try
            {
                AtomicFile.Write(Files.StatePath, state);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new CheckpointException(ErrorIds.CheckpointWriteFailed, $"Writing the state file '{Files.StatePath}' failed: {e.Message}. Every result is safe in '{Files.ResultsPath}'; fix the cause and resume.", e) { Target = Files.StatePath };
            }

            Interlocked.Increment(ref _checkpoints);
        }
    }

    private void WriteErrorLog(Action action)
    {
        try
        {
            action();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CheckpointException(ErrorIds.CheckpointWriteFailed, $"Writing the errors log '{Files.ErrorLogPath}' failed: {e.Message}. Every result is safe in '{Files.ResultsPath}'; fix the cause and resume.", e) { Target = Files.ErrorLogPath };
        }
    }

    private void Release()
    {
        if (_closed)
        {
            return;
        }

        _closed = true;
        _groupCommit.Dispose();
        _errorLog.Dispose();
        _writer.Dispose();
        _lock.Dispose();
    }

    // Takes in a record just written: the index, the errors log for a failure, the count toward the next checkpoint.
    [MethodImpl(JitOptions.Optimized)]
    private bool Appended(CheckpointRecord record, string? errorContext, long offset, int length)
    {
        lock (_indexGate)
        {
            Index.Apply(record, 0, offset, length);
        }

        if (record.Error is not null)
        {
            WriteErrorLog(() => _errorLog.Append(record, errorContext));
        }

        if (++_sinceCheckpoint < CheckpointEvery)
        {
            return false;
        }

        _sinceCheckpoint = 0;
        _groupCommit.Request();
        return true;
    }

    // Before each write: this process must still hold the part's lease, and the results file must be the one it
    // opened, at the length it wrote. Anything else means another writer, and writing on would overwrite it.
    private void Fence()
    {
        _lock.Verify();
        _writer.VerifyUnchanged();
    }

    private void ThrowIfUnusable()
    {
        ThrowIfClosed();
        if (_groupCommit.Failure is Exception failure)
        {
            throw failure;
        }
    }

    private void ThrowIfClosed()
    {
        if (_closed)
        {
            throw new ObjectDisposedException(nameof(CheckpointStore));
        }
    }
}
