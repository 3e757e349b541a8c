using System;
using System.Globalization;
using System.Management.Automation;
using Checkpoint.Runs;
using Checkpoint.Commands.Blocks;

namespace Checkpoint.Commands.Internal;

/// <summary>
/// Writes what a run reports to the cmdlet's streams: verbose, warning, progress, -PassThru objects, and what
/// blocks on worker runspaces wrote to their own streams.
/// </summary>
internal sealed class CmdletObserver : IRunObserver
{
    private readonly Cmdlet _cmdlet;
    private readonly bool _passThru;
    private readonly int _activityId;

    public CmdletObserver(Cmdlet cmdlet, bool passThru, int activityId)
    {
        _cmdlet = cmdlet;
        _passThru = passThru;
        _activityId = activityId;
    }

    /// <inheritdoc/>
    public bool OutputClosed { get; private set; }

    public void Verbose(string message) => Write(() => _cmdlet.WriteVerbose(message));

    public void Warning(string message) => Write(() => _cmdlet.WriteWarning(message));

    public void Streamed(object record)
    {
        switch (record)
        {
            case ErrorRecord error:
                Write(() => _cmdlet.WriteError(error));
                break;
            case WarningRecord warning:
                Write(() => _cmdlet.WriteWarning(warning.Message));
                break;
            case VerboseRecord verbose:
                Write(() => _cmdlet.WriteVerbose(verbose.Message));
                break;
            case DebugRecord debug:
                Write(() => _cmdlet.WriteDebug(debug.Message));
                break;
            case InformationRecord information:
                Write(() => _cmdlet.WriteInformation(information));
                break;
        }
    }

    public void Progress(RunProgress progress)
    {
        string status = string.Format(
            CultureInfo.InvariantCulture,
            "{0}/{1} done, {2} failed, {3:0.0} samples/s, concurrency {5}, {6} rate-limited (429){4}",
            progress.Completed,
            progress.Total,
            progress.Failed,
            progress.SamplesPerSecond,
            progress.Waiting is null ? string.Empty : "; " + progress.Waiting,
            progress.Concurrency,
            progress.RateLimitedCount);
        var record = new ProgressRecord(_activityId, "Checkpoint run " + progress.RunId, status)
        {
            PercentComplete = progress.PercentComplete,
            SecondsRemaining = progress.Remaining is TimeSpan left ? (int)Math.Min(int.MaxValue, left.TotalSeconds) : -1,
            RecordType = progress.Finished ? ProgressRecordType.Completed : ProgressRecordType.Processing,
        };
        Write(() => _cmdlet.WriteProgress(record));
    }

    public void SampleFinished(SampleResult result)
    {
        if (_passThru && !OutputClosed)
        {
            result.Output = PSJson.Deserialize(result.OutputJson);
            Write(() => _cmdlet.WriteObject(result));
        }
    }

    // Once the pipeline is stopping (Ctrl+C), or a command after this one has all it wants (Select-Object
    // -First), writes throw; the run must still get to close its files cleanly, so what it reports then is
    // dropped, and no new sample starts.
    private void Write(Action write)
    {
        if (_cmdlet.Stopping)
        {
            return;
        }

        try
        {
            write();
        }
        catch (PipelineStoppedException)
        {
            OutputClosed = true;
        }
    }
}
