namespace Checkpoint.Runs;

/// <summary>Makes the processors of a run: one for the caller's thread, or one per worker thread.</summary>
public interface ISampleProcessorFactory
{
    /// <summary>
    /// A processor that runs attempts on the caller's thread (ThrottleLimit 1, as ForEach-Object does), or
    /// null when attempts must run on worker threads (parallel runs, or attempts that a timeout must be able
    /// to stop).
    /// </summary>
    ISampleProcessor? CreateInline();

    /// <summary>A processor for one worker thread, used by that thread only, disposed when the run ends.</summary>
    ISampleProcessor CreateWorker();
}
