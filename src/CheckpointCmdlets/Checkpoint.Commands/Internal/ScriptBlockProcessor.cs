using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using Checkpoint.Datasets;
using Checkpoint.Runs;

namespace Checkpoint.Commands.Internal;

/// <summary>
/// Runs a sample's attempt as a scriptblock in the caller's runspace, as ForEach-Object does: the sample is
/// <c>$_</c> and <c>$args[0]</c>, the context is <c>$CheckpointContext</c>, and ErrorActionPreference is Stop
/// inside the block, so any error, terminating or not, fails the attempt.
/// </summary>
internal sealed class ScriptBlockProcessor : ISampleProcessor
{
    private readonly ScriptBlock _block;

    public ScriptBlockProcessor(ScriptBlock block) => _block = block;

    public SampleOutcome Process(Sample sample, SampleContext context, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        PSObject input = SampleConverter.ToPSObject(sample);
        var variables = new List<PSVariable>(4)
        {
            new("_", input),
            new("CheckpointContext", context),
            new("ErrorActionPreference", ActionPreference.Stop),
        };
        Collection<PSObject> output;
        try
        {
            output = _block.InvokeWithContext(null, variables, input);
        }
        catch (PipelineStoppedException)
        {
            throw new OperationCanceledException("The run is stopping.", cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return Failure(e);
        }

        try
        {
            return SampleOutcome.Success(PSJson.Serialize(output));
        }
        catch (InvalidOperationException e)
        {
            return SampleOutcome.Failure("OutputNotSerializable", e.Message, transient: false);
        }
    }

    /// <summary>The outcome of an attempt that threw <paramref name="error"/>.</summary>
    internal static SampleOutcome Failure(Exception error)
    {
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
        return SampleOutcome.Failure(
            root.GetType().FullName ?? root.GetType().Name,
            root.Message,
            FailureClassifier.IsTransient(root),
            FailureClassifier.HttpStatusOf(root),
            context);
    }
}
