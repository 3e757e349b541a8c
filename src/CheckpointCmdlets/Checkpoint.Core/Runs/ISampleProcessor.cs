using System.Threading;
using Checkpoint.Datasets;

namespace Checkpoint.Runs;

/// <summary>Runs one attempt at one sample. The cmdlets implement it with a scriptblock.</summary>
public interface ISampleProcessor : System.IDisposable
{
    /// <summary>
    /// Runs the attempt and reports its outcome; never throws for a failure of the work itself. Throws
    /// <see cref="System.OperationCanceledException"/> when the run is being stopped, which abandons the
    /// attempt (the sample stays pending).
    /// </summary>
    SampleOutcome Process(Sample sample, SampleContext context, CancellationToken cancellationToken);
}
