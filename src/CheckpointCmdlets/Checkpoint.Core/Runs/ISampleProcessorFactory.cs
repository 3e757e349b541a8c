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

    /// <summary>
    /// A processor for one worker thread, used by that thread only, disposed when the run ends. It hands
    /// <paramref name="streamed"/>, as they are written, the records that its attempts write to streams other
    /// than their output (error, warning, verbose, debug and information records of the processor's own
    /// types), for the caller's streams; a processor on the caller's thread writes them there itself.
    /// </summary>
    ISampleProcessor CreateWorker(System.Action<object> streamed);
}
