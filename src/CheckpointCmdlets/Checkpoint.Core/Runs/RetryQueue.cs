using System;
using System.Collections.Concurrent;
using System.Threading;
using System.Threading.Tasks;

namespace Checkpoint.Runs;

/// <summary>
/// The next attempts of samples in retry. A sample waiting out its backoff holds no worker: its retries run
/// in an asynchronous pipeline whose backoff is a timer, and when it ends the next attempt is queued here;
/// a dispatcher's workers (or, inline, the caller's thread) run a due attempt before any new sample.
/// Thread-safe.
/// </summary>
internal sealed class RetryQueue
{
    private readonly BlockingCollection<Job> _due = new();
    private CancellationTokenSource _abandon = new();
    private int _waiting;

    /// <summary>Samples whose retries are under way: in backoff, queued, or running.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>Cancelled when the dispatcher ends and no queued attempt will run any more.</summary>
    public CancellationToken Abandoned => _abandon.Token;

    /// <summary>Where a failure that must stop the run goes (a record that could not be written).</summary>
    public Action<Exception> Fatal { get; set; } = _ => { };

    /// <summary>A sample's retries begin.</summary>
    public void Begin() => Interlocked.Increment(ref _waiting);

    /// <summary>A sample's retries are over (it finished, was held, or was left pending).</summary>
    public void End() => Interlocked.Decrement(ref _waiting);

    /// <summary>Queues an attempt that <paramref name="run"/> makes with the processor of whoever takes it.</summary>
    public Task<SampleOutcome> Queue(Func<ISampleProcessor, SampleOutcome> run)
    {
        var job = new Job(run);
        if (_abandon.IsCancellationRequested)
        {
            job.Cancel();
        }
        else
        {
            _due.Add(job);
        }

        return job.Done.Task;
    }

    /// <summary>Runs one due attempt with <paramref name="processor"/>, waiting for one up to <paramref name="timeout"/>; false when none came.</summary>
    public bool RunNext(ISampleProcessor processor, TimeSpan timeout)
    {
        // Asked before every new sample: most of the time nothing is due, and counting costs less than taking.
        if ((timeout == TimeSpan.Zero && Waiting == 0) || !_due.TryTake(out Job? job, timeout))
        {
            return false;
        }

        job.Run(processor);
        return true;
    }

    /// <summary>
    /// For the end of a dispatch: no queued attempt runs any more, those in backoff are cancelled (their
    /// samples stay pending), and this returns once every sample's retries are over. Ready for the next pass.
    /// </summary>
    public void Abandon()
    {
        _abandon.Cancel();
        var spin = new SpinWait();
        while (true)
        {
            // An attempt queued after the cancel (its backoff ended meanwhile) is cancelled too.
            while (_due.TryTake(out Job? job))
            {
                job.Cancel();
            }

            if (Waiting == 0)
            {
                break;
            }

            spin.SpinOnce();
        }

        _abandon.Dispose();
        _abandon = new CancellationTokenSource();
    }

    private sealed class Job
    {
        private readonly Func<ISampleProcessor, SampleOutcome> _run;

        public Job(Func<ISampleProcessor, SampleOutcome> run) => _run = run;

        // Continuations run on the thread that makes the attempt, as they would have without the queue: the
        // retry pipeline records the attempt, and the sample's last record is written, before it takes the next.
        public TaskCompletionSource<SampleOutcome> Done { get; } = new();

        public void Run(ISampleProcessor processor)
        {
            // .NET runs the waiting pipeline on this thread only where no synchronization context is set (the
            // caller's thread may have one); elsewhere it would go on on the thread pool, and a retry due at
            // once would no longer come before the next sample.
            SynchronizationContext? context = SynchronizationContext.Current;
            SynchronizationContext.SetSynchronizationContext(null);
            try
            {
                Done.SetResult(_run(processor));
            }
            catch (Exception e)
            {
                Done.TrySetException(e);
            }
            finally
            {
                SynchronizationContext.SetSynchronizationContext(context);
            }
        }

        public void Cancel() => Done.TrySetCanceled();
    }
}
