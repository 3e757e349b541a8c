using Checkpoint.Runs;

namespace Checkpoint.Tests;

/// <summary>An observer of a run that takes every call and keeps nothing, for tests that read the files and the summary.</summary>
internal sealed class QuietObserver : IRunObserver
{
    public bool OutputClosed => false;

    public void Verbose(string message)
    {
    }

    public void Warning(string message)
    {
    }

    public void Progress(RunProgress progress)
    {
    }

    public void Streamed(object record)
    {
    }

    public void SampleFinished(SampleResult result)
    {
    }
}
