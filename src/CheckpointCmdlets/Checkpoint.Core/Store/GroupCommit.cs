using System;
using System.IO;
using System.Threading;

namespace Checkpoint.Store;

/// <summary>
/// The background thread of a store's group commit: appends ask for a checkpoint and never wait for it; the
/// thread takes one at a time, each covering every record written before it began, and at most one every
/// <see cref="CheckpointStore.MinCommitInterval"/>. A failed checkpoint is kept for the next append to throw.
/// </summary>
internal sealed class GroupCommit : IDisposable
{
    private readonly Action _commit;
    private readonly Func<Exception, CheckpointException> _failure;
    private readonly AutoResetEvent _requested = new(false);
    private readonly ManualResetEvent _stopping = new(false);
    private readonly Thread _thread;
    private volatile bool _stop;
    private Exception? _failed;

    /// <summary>Starts the thread, which runs <paramref name="commit"/> when asked; <paramref name="failure"/> says what an I/O error of it means.</summary>
    public GroupCommit(string name, Action commit, Func<Exception, CheckpointException> failure)
    {
        _commit = commit;
        _failure = failure;
        _thread = new Thread(Loop) { IsBackground = true, Name = "Checkpoint commit " + name };
        _thread.Start();
    }

    /// <summary>The failure of the last background checkpoint, or null.</summary>
    public Exception? Failure => Volatile.Read(ref _failed);

    /// <summary>Asks for a checkpoint; requests made while one runs are taken together by the next.</summary>
    public void Request() => _requested.Set();

    /// <summary>Stops the thread after the checkpoint it is taking, if any; the caller takes the last one itself.</summary>
    public void Stop()
    {
        if (_stop)
        {
            return;
        }

        _stop = true;
        _stopping.Set();
        _requested.Set();
        if (Thread.CurrentThread != _thread)
        {
            _thread.Join();
        }
    }

    /// <summary>Releases the events; call after <see cref="Stop"/>.</summary>
    public void Dispose()
    {
        _requested.Dispose();
        _stopping.Dispose();
    }

    private void Loop()
    {
        while (true)
        {
            _requested.WaitOne();
            if (_stop)
            {
                return;
            }

            try
            {
                _commit();
            }
            catch (Exception e) when (e is CheckpointException or IOException or UnauthorizedAccessException or ObjectDisposedException)
            {
                Volatile.Write(ref _failed, e as CheckpointException ?? _failure(e));
            }

            // Requests made meanwhile are taken together by the next checkpoint; a stop does not wait for this.
            _stopping.WaitOne(CheckpointStore.MinCommitInterval);
        }
    }
}
