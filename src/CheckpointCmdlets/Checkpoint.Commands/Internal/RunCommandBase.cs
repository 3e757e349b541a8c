using System;
using System.Globalization;
using System.Management.Automation;
using System.Threading;
using Checkpoint.Runs;

namespace Checkpoint.Commands.Internal;

/// <summary>
/// What Start-CheckpointRun and Resume-CheckpointRun share: the run-time parameters, the stop handling, and
/// running one plan with its errors turned into ErrorRecords. Not a cmdlet itself.
/// </summary>
public abstract class RunCommandBase : PSCmdlet, IDisposable
{
    private readonly CancellationTokenSource _cancellation = new();
    private int _activityId;

    /// <summary>Samples in flight at once.</summary>
    [Parameter]
    [ValidateRange(1, 1024)]
    public int ThrottleLimit { get; set; } = 1;

    /// <summary>Retries after a failed attempt.</summary>
    [Parameter]
    [ValidateRange(0, 1000)]
    public int MaxRetries { get; set; } = 3;

    /// <summary>The longest one attempt may take, in seconds.</summary>
    [Parameter]
    [ValidateRange(0.001, 86400.0 * 7)]
    public double TimeoutSeconds { get; set; }

    /// <summary>Process at most this many pending samples per run.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int Limit { get; set; }

    /// <summary>Also emit one SampleResult per sample processed now, as each completes.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>Leave samples whose latest attempt failed alone.</summary>
    [Parameter]
    public SwitchParameter SkipFailed { get; set; }

    /// <summary>Cancelled when the user presses Ctrl+C (or the pipeline is stopped).</summary>
    protected CancellationToken StopToken => _cancellation.Token;

    /// <inheritdoc/>
    public void Dispose()
    {
        _cancellation.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <inheritdoc/>
    protected override void StopProcessing() => _cancellation.Cancel();

    /// <summary>True when -WhatIf is in effect.</summary>
    protected bool IsWhatIf() => WhatIf.IsActive(this);

    /// <summary>Copies the run-time parameters onto <paramref name="plan"/>.</summary>
    protected void ApplyRunParameters(RunPlan plan)
    {
        plan.MaxRetries = MaxRetries;
        plan.Limit = MyInvocation.BoundParameters.ContainsKey(nameof(Limit)) ? Limit : null;
        plan.SkipFailed = SkipFailed.IsPresent;
    }

    /// <summary>
    /// Runs <paramref name="plan"/> with <paramref name="block"/>, or, under -WhatIf, says what it would do.
    /// Writes the summary. A problem with this run's input is written as an error and the next run goes on;
    /// a failure to write a checkpoint stops the command.
    /// </summary>
    protected void Run(RunPlan plan, ScriptBlock block)
    {
        var engine = new RunEngine(plan);
        try
        {
            string target = plan.Model + " on " + plan.DatasetPath + (plan.Shard is null ? string.Empty : " shard " + plan.Shard);
            if (IsWhatIf())
            {
                RunPreview preview = engine.Preview();
                string message = string.Format(
                    CultureInfo.InvariantCulture,
                    "Run {0}: {1} samples, {2} done, {3} pending, {4} failed; would process {5}.",
                    preview.RunId,
                    preview.Total,
                    preview.Completed,
                    preview.Pending,
                    preview.Failed,
                    preview.ToProcess);
                ShouldProcess(message, message, "Start-CheckpointRun");
                return;
            }

            if (!ShouldProcess(target, "Run"))
            {
                return;
            }

            var observer = new CmdletObserver(this, PassThru.IsPresent, ++_activityId);
            RunSummary summary = engine.Execute(new ScriptBlockProcessor(block), observer, StopToken);
            WriteObject(summary);
        }
        catch (CheckpointException e) when (e.ErrorId is ErrorIds.CheckpointWriteFailed or ErrorIds.OutputDirectoryUnwritable)
        {
            ThrowTerminatingError(ErrorRecords.From(e));
        }
        catch (CheckpointException e)
        {
            WriteError(ErrorRecords.From(e));
        }
    }
}
