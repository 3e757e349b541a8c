using System;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using Checkpoint.Datasets;
using Checkpoint.Runs;
using Xunit;

namespace Checkpoint.Tests;

public sealed class RunLauncherTests
{
    [Fact]
    public void AParallelRunWhoseCallerRefusesAResultEndsWithThatErrorOnceEveryWorkerHasStopped()
    {
        using var dir = new TestDirectory();
        string dataset = dir.File("data.csv");
        File.WriteAllText(dataset, "id,q\n" + string.Concat(Enumerable.Range(1, 200).Select(i => $"s{i},x\n")));
        var plan = new RunPlan { Definition = { DatasetPath = dataset, ThrottleLimit = 4 }, OutputDirectory = dir.File("out") };
        var factory = new SleepingProcessors();

        var refused = Assert.Throws<InvalidOperationException>(() => new RunLauncher(plan).Execute(factory, new RefusingObserver(), CancellationToken.None));

        Assert.Equal("the caller refused a result", refused.Message);
        // Every worker disposed of its processor before Execute returned: none outlived the run's collections.
        Assert.Equal(4, factory.Created);
        Assert.Equal(factory.Created, factory.Disposed);
        string results = Directory.GetFiles(dir.File("out"), "*.jsonl").Single();
        string[] lines = File.ReadAllText(results, Encoding.UTF8).Split('\n');
        Assert.Equal(string.Empty, lines[lines.Length - 1]);
        Assert.InRange(lines.Length - 1, 1, 199);
        Assert.All(lines.Take(lines.Length - 1), line => Assert.Matches("^\\{\"v\":1,\"sample_id\":\"s[0-9]+\",\"status\":\"completed\",.*,\"crc\":\"[0-9a-f]{8}\"\\}$", line));
        string state = File.ReadAllText(Directory.GetFiles(dir.File("out"), "*_resume_state.json").Single());
        Assert.Contains("\"status\": \"Interrupted\"", state, StringComparison.Ordinal);
    }

    private sealed class SleepingProcessors : ISampleProcessorFactory
    {
        private int _created;
        private int _disposed;

        public int Created => Volatile.Read(ref _created);

        public int Disposed => Volatile.Read(ref _disposed);

        public ISampleProcessor? CreateInline() => null;

        public ISampleProcessor CreateWorker(Action<object> streamed)
        {
            Interlocked.Increment(ref _created);
            return new Processor(this);
        }

        private sealed class Processor : ISampleProcessor
        {
            private readonly SleepingProcessors _owner;

            public Processor(SleepingProcessors owner) => _owner = owner;

            public SampleOutcome Process(Sample sample, SampleContext context, CancellationToken cancellationToken)
            {
                cancellationToken.WaitHandle.WaitOne(5);
                return SampleOutcome.Success("1");
            }

            public void Dispose()
            {
                // Slow to close, as a runspace is: a worker still here when the run returns would be caught.
                Thread.Sleep(50);
                Interlocked.Increment(ref _owner._disposed);
            }
        }
    }

    private sealed class RefusingObserver : IRunObserver
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

        public void SampleFinished(SampleResult result) => throw new InvalidOperationException("the caller refused a result");
    }
}
