using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;

namespace Checkpoint.Store;

/// <summary>
/// Appends records to a store on a thread of its own, so that the thread that made them goes on with the
/// next sample at once; the records that gather meanwhile are written together, with one write call. Each
/// record's callback runs on the queue's thread once the store has handed the record to the operating
/// system: a sample counts as done only then. A record still queued when the process dies is lost and its
/// sample, never reported done, stays pending. At most <see cref="Capacity"/> records wait; <see cref="Post"/>
/// blocks beyond that. After a failed append the queue drops what is left, and <see cref="Post"/> and
/// <see cref="Flush"/> throw that failure.
/// </summary>
internal sealed class RecordQueue : IDisposable
{
    /// <summary>The most records waiting to be written at once.</summary>
    public const int Capacity = 256;

    // Once woken, the thread lets records gather this long, so one wake-up writes a batch of them.
    private static readonly TimeSpan s_gather = TimeSpan.FromMilliseconds(1);

    private readonly CheckpointStore _store;
    private readonly ConcurrentQueue<Entry> _entries = new();
    private readonly SemaphoreSlim _room = new(Capacity, Capacity);
    private readonly AutoResetEvent _wake = new(false);
    private readonly object _gate = new();
    private readonly Thread _thread;
    private long _posted;
    private long _done;
    private int _asleep;
    private volatile bool _stopping;
    private volatile Exception? _failure;
    private bool _disposed;

    public RecordQueue(CheckpointStore store)
    {
        _store = store;
        _thread = new Thread(WriteLoop) { IsBackground = true, Name = "Checkpoint writer " + store.Files.BaseName };
        _thread.Start();
    }

    /// <summary>The error of the append that failed, if one did.</summary>
    public Exception? Failure => _failure;

    /// <summary>
    /// Queues <paramref name="record"/> (with the context for the errors log, for a failure); <paramref name="written"/>
    /// runs on the queue's thread once it is appended, and never if the append fails.
    /// </summary>
    [MethodImpl(JitOptions.Optimized)]
    public void Post(CheckpointRecord record, string? errorContext, Action written)
    {
        ThrowIfFailed();
        _room.Wait();
        Interlocked.Increment(ref _posted);
        _entries.Enqueue(new Entry(record, errorContext, written));
        if (Interlocked.Exchange(ref _asleep, 0) == 1)
        {
            _wake.Set();
        }
    }

    /// <summary>
    /// Waits until every record posted so far is appended (or dropped after a failure), then throws the
    /// failure, if any.
    /// </summary>
    public void Flush()
    {
        WaitForAll();
        ThrowIfFailed();
    }

    /// <summary>Appends what is still queued, then stops the thread. Does not throw: see <see cref="Failure"/>.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        WaitForAll();
        _stopping = true;
        _wake.Set();
        _thread.Join();
        _wake.Dispose();
        _room.Dispose();
    }

    private void WaitForAll()
    {
        long posted = Interlocked.Read(ref _posted);
        lock (_gate)
        {
            while (_done < posted)
            {
                _wake.Set();
                Monitor.Wait(_gate);
            }
        }
    }

    private void ThrowIfFailed()
    {
        if (_failure is Exception failure)
        {
            throw failure;
        }
    }

    private void WriteLoop()
    {
        var batch = new List<(CheckpointRecord Record, string? ErrorContext)>(Capacity);
        var written = new List<Action>(Capacity);
        while (true)
        {
            // Announce the sleep, then look once more, so that a record posted in between is not left waiting
            // (a full fence: the look must not be ordered before the announcement).
            Interlocked.Exchange(ref _asleep, 1);
            if (_entries.IsEmpty)
            {
                if (_stopping)
                {
                    return;
                }

                _wake.WaitOne();
                Thread.Sleep(s_gather);
            }

            Volatile.Write(ref _asleep, 0);
            batch.Clear();
            written.Clear();
            while (batch.Count < Capacity && _entries.TryDequeue(out Entry entry))
            {
                batch.Add((entry.Record, entry.ErrorContext));
                written.Add(entry.Written);
            }

            if (batch.Count == 0)
            {
                continue;
            }

            if (_failure is null)
            {
                try
                {
                    _store.Append(batch);
                    foreach (Action callback in written)
                    {
                        callback();
                    }
                }
                catch (Exception e)
                {
                    _failure = e;
                }
            }

            _room.Release(batch.Count);
            lock (_gate)
            {
                _done += batch.Count;
                Monitor.PulseAll(_gate);
            }
        }
    }

    private readonly record struct Entry(CheckpointRecord Record, string? ErrorContext, Action Written);
}
