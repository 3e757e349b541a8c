namespace Checkpoint.Runs;

/// <summary>
/// What a run tells its caller while it works. Every call comes on the thread that called
/// <see cref="RunLauncher.Execute"/>, so a cmdlet can write to its streams directly.
/// </summary>
public interface IRunObserver
{
    /// <summary>A state change or progress note (the verbose stream).</summary>
    void Verbose(string message);

    /// <summary>Something the user should know: damage repaired, dataset changed (the warning stream).</summary>
    void Warning(string message);

    /// <summary>How far the run is.</summary>
    void Progress(RunProgress progress);

    /// <summary>
    /// A record that a block running on a worker wrote to a stream other than its output (the processor's
    /// error, warning, verbose, debug or information records), for the caller's stream of the same kind. A
    /// block on the caller's thread writes to the caller's streams itself.
    /// </summary>
    void Streamed(object record);

    /// <summary>A sample finished for now (completed, or failed after its last attempt).</summary>
    void SampleFinished(SampleResult result);

    /// <summary>
    /// True once whatever takes the run's results wants no more (in a pipeline, Select-Object -First has what it
    /// asked for): no new sample starts, the samples in flight finish and are saved, and the run ends Interrupted.
    /// </summary>
    bool OutputClosed { get; }
}
