using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Linq;
using System.Management.Automation;
using System.Runtime.CompilerServices;
using System.Threading;
using Checkpoint.Datasets;
using Checkpoint.Runs;

namespace Checkpoint.Commands.Blocks;

/// <summary>
/// Runs a sample's attempt as a scriptblock in the runspace of the thread, as ForEach-Object does: the
/// caller's runspace for a run on the caller's thread, otherwise a worker runspace, inside its long-lived pipeline.
/// The sample is <c>$_</c> and <c>$args[0]</c>, the context is <c>$CheckpointContext</c>, and
/// ErrorActionPreference is Stop inside the block, so any error, terminating or not, fails the attempt.
/// </summary>
internal sealed class ScriptBlockProcessor : ISampleProcessor
{
    private static readonly ScriptBlock s_seed = ScriptBlock.Create("param($seed) $null = Microsoft.PowerShell.Utility\\Get-Random -SetSeed $seed");

    private readonly ScriptBlock _block;
    private readonly BlockText _text;
    private readonly RetryRules _rules;
    private readonly bool _contextAsParameters;
    private readonly Cache.CachedCalls? _calls;

    /// <summary>
    /// Runs <paramref name="block"/>, which belongs to the runspace the attempts run in. With
    /// <paramref name="contextAsParameters"/>, the block is <see cref="BlockText.WithContextParameters"/>.
    /// </summary>
    public ScriptBlockProcessor(ScriptBlock block, BlockText text, RetryRules rules, Cache.CachedCalls? calls, bool contextAsParameters = false)
    {
        _calls = calls;
        _block = block;
        _text = text;
        _rules = rules;
        _contextAsParameters = contextAsParameters;
    }

    /// <summary>Runs the block the caller gave, in the caller's runspace.</summary>
    public static ScriptBlockProcessor InCallerRunspace(ScriptBlock block, BlockText text, RetryRules rules, Cache.CachedCalls? calls) =>
        text.WithContextParameters is ScriptBlock withParameters
            ? new(withParameters, text, rules, calls, contextAsParameters: true)
            : new(text.ForCallerRunspace(block), text, rules, calls);

    [MethodImpl(JitOptions.Optimized)]
    public SampleOutcome Process(Sample sample, SampleContext context, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        PSObject input = SampleConverter.ToPSObject(sample);
        Collection<PSObject> output;
        context.Calls = _calls;
        PowerShellCacheHost.SetSample(input);
        try
        {
            if (_text.UsesGetRandom)
            {
                s_seed.Invoke(context.SampleSeed);
            }

            output = _contextAsParameters
                ? _block.InvokeWithContext(null, new List<PSVariable>(1) { new("_", input) }, context, ActionPreference.Stop, input)
                : _block.InvokeWithContext(null, Variables(input, context, _text), input);
        }
        catch (PipelineStoppedException)
        {
            throw new OperationCanceledException("The attempt was stopped.", cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return Failure(e, _rules);
        }

        return Success(output);
    }

    public void Dispose()
    {
    }

    /// <summary>The variables a block sees: $_, $CheckpointContext, ErrorActionPreference Stop, and its $using: values.</summary>
    private static List<PSVariable> Variables(PSObject input, SampleContext context, BlockText text)
    {
        var variables = new List<PSVariable>(3 + text.UsingVariables.Count)
        {
            new("_", input),
            new("CheckpointContext", context),
            new("ErrorActionPreference", ActionPreference.Stop),
        };
        variables.AddRange(text.UsingVariables);
        return variables;
    }

    /// <summary>The outcome of an attempt that produced <paramref name="output"/>.</summary>
    [MethodImpl(JitOptions.Optimized)]
    private static SampleOutcome Success(Collection<PSObject> output)
    {
        try
        {
            return SampleOutcome.SuccessWithCheckedJson(PSJson.Serialize(output));
        }
        catch (InvalidOperationException e)
        {
            return SampleOutcome.Failure("OutputNotSerializable", e.Message, transient: false);
        }
    }

    /// <summary>The outcome of an attempt that threw <paramref name="error"/>.</summary>
    private static SampleOutcome Failure(Exception error, RetryRules rules)
    {
        if (error is MethodInvocationException { InnerException: Exception thrown })
        {
            error = thrown;
        }

        ErrorRecord? record = (error as IContainsErrorRecord)?.ErrorRecord;
        Exception root = record?.Exception is Exception inner && inner is not ParentContainsErrorRecordException ? inner : error;
        if (root is ActionPreferenceStopException stop && stop.ErrorRecord?.Exception is Exception original)
        {
            root = original;
            record = stop.ErrorRecord;
        }

        string context = record is null
            ? error.ToString()
            : string.Join("\n", new[] { record.InvocationInfo?.PositionMessage, record.ScriptStackTrace, "FullyQualifiedErrorId: " + record.FullyQualifiedErrorId }.Where(s => !string.IsNullOrEmpty(s)));
        int? status = FailureClassifier.HttpStatusOf(root);
        string message = record?.ErrorDetails?.Message is string details && details.Length > 0 ? root.Message + " " + details : root.Message;
        return SampleOutcome.Failure(
            root.GetType().FullName ?? root.GetType().Name,
            message,
            rules.IsTransient(root, status, FailureClassifier.IsTransient(root)),
            status,
            context,
            FailureClassifier.RetryAfterOf(root, DateTimeOffset.UtcNow));
    }
}
