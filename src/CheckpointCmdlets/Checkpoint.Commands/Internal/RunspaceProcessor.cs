using System;
using System.Collections.ObjectModel;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Threading;
using Checkpoint.Datasets;
using Checkpoint.Runs;

namespace Checkpoint.Commands.Internal;

/// <summary>
/// Runs attempts in a runspace of its own (one per worker thread, opened once per run), so that attempts can
/// run in parallel and a timeout or Ctrl+C can stop one. The block is compiled once in that runspace.
/// </summary>
internal sealed class RunspaceProcessor : ISampleProcessor
{
    // The function that runs one attempt, defined in every worker runspace so that it is compiled once per
    // runspace, not once per sample as a script added to each invocation would be.
    private const string InvokerName = "__Checkpoint_InvokeAttempt";
    private const string InvokerBody =
        "param($block, $sample, $variables, $seed) "
        + "$ErrorActionPreference = 'Stop'; "
        + "if ($null -ne $seed) { $null = Microsoft.PowerShell.Utility\\Get-Random -SetSeed $seed } "
        + "$block.InvokeWithContext($null, $variables, $sample)";

    private readonly Runspace _runspace;
    private readonly ScriptBlock _block;
    private readonly BlockText _text;
    private readonly RetryRules _rules;

    // Reused from one attempt to the next: a PowerShell made per attempt left its stream wait handles to the
    // finalizer, which then took more CPU than the attempts. Replaced after an attempt that threw or was stopped.
    private PowerShell? _shell;

    public RunspaceProcessor(InitialSessionState state, BlockText text, RetryRules rules)
    {
        _text = text;
        _rules = rules;
        _runspace = RunspaceFactory.CreateRunspace(state);
        // Invocations run on the worker's own thread, not on a thread made for each one.
        _runspace.ThreadOptions = PSThreadOptions.UseCurrentThread;
        try
        {
            _runspace.Open();
        }
        catch (Exception e) when (e is RuntimeException or RunspaceOpenModuleLoadException)
        {
            _runspace.Dispose();
            throw new CheckpointException(ErrorRecords.ImportModuleFailed, $"A module of -ImportModule failed to import into a worker runspace: {e.Message}", e);
        }

        using PowerShell compile = PowerShell.Create();
        compile.Runspace = _runspace;
        Collection<PSObject> compiled = compile.AddScript("param($text) [scriptblock]::Create($text)").AddArgument(text.Text).Invoke();
        _block = (ScriptBlock)compiled[0].BaseObject;
    }

    public SampleOutcome Process(Sample sample, SampleContext context, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        PowerShell shell = _shell ??= NewShell();
        shell.Commands.Clear();
        shell.Streams.ClearStreams();
        PSObject input = SampleConverter.ToPSObject(sample);
        shell.AddCommand(InvokerName)
            .AddArgument(_block)
            .AddArgument(input)
            .AddArgument(ScriptBlockProcessor.Variables(input, context, _text))
            .AddArgument(_text.UsesGetRandom ? context.SampleSeed : null);
        Collection<PSObject>? output = null;
        Exception? failure = null;
        bool stopped = false;
        using (cancellationToken.Register(() => shell.BeginStop(null, null)))
        {
            try
            {
                output = shell.Invoke();
            }
            catch (PipelineStoppedException)
            {
                stopped = true;
            }
            catch (Exception e)
            {
                failure = e;
            }
        }

        // Disposed only now that no stop can reach it. A stop asked for as the attempt ended, too, gives the
        // next attempt a shell of its own.
        if (stopped || failure is not null || cancellationToken.IsCancellationRequested)
        {
            DiscardShell();
        }

        cancellationToken.ThrowIfCancellationRequested();
        if (stopped || failure is OperationCanceledException)
        {
            throw new OperationCanceledException("The attempt was stopped.", failure);
        }

        if (failure is not null)
        {
            return ScriptBlockProcessor.Failure(failure, _rules);
        }

        if (shell.Streams.Error.Count > 0)
        {
            ErrorRecord error = shell.Streams.Error[0];
            return ScriptBlockProcessor.Failure(error.Exception ?? new RuntimeException(error.ToString()), _rules);
        }

        return ScriptBlockProcessor.Success(output!);
    }

    public void Dispose()
    {
        DiscardShell();
        _runspace.Dispose();
    }

    private PowerShell NewShell()
    {
        PowerShell shell = PowerShell.Create();
        shell.Runspace = _runspace;
        return shell;
    }

    private void DiscardShell()
    {
        _shell?.Dispose();
        _shell = null;
    }

    /// <summary>
    /// The session state of a worker runspace: every built-in command (a runspace of CreateDefault2 would
    /// load even Start-Sleep by module autoloading, in each runspace), the modules of
    /// <paramref name="importModule"/>, and the attempt invoker.
    /// </summary>
    public static InitialSessionState NewSessionState(string[] importModule)
    {
        InitialSessionState state = InitialSessionState.CreateDefault();
        if (importModule.Length > 0)
        {
            state.ImportPSModule(importModule);
        }

        state.Commands.Add(new SessionStateFunctionEntry(InvokerName, InvokerBody));
        // A module that fails to import fails the run at once, not each of its samples.
        state.ThrowOnRunspaceOpenError = true;
        return state;
    }
}
