using System;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Runtime.ExceptionServices;
using System.Threading;
using Checkpoint.Datasets;
using Checkpoint.Runs;

namespace Checkpoint.Commands.Blocks;

/// <summary>
/// Runs attempts in a runspace of its own (one per worker, opened once per run), so that attempts can run in
/// parallel and a timeout or Ctrl+C can stop one. The block is parsed once per runspace.
/// </summary>
/// <remarks>
/// The runspace has a thread of its own, which runs one long-lived pipeline there; each attempt is handed to
/// that pipeline and invokes the block directly in it, as a run on the caller's thread does in the caller's
/// pipeline. A pipeline started per attempt cost several times the CPU of the attempt itself. A stop ends
/// the pipeline the attempt runs in, so the thread starts a new one for the attempts after it.
/// </remarks>
internal sealed class RunspaceProcessor : ISampleProcessor
{
    private const string ServeScript = "param($serve) $serve.Invoke()";

    private readonly Runspace _runspace;
    private readonly ScriptBlockProcessor _attempts;
    private readonly Thread _thread;

    // The hand-over between the worker (Process) and the runspace's thread, under _gate: one attempt at a time.
    private readonly object _gate = new();
    private Request? _request;
    private bool _closing;
    private ExceptionDispatchInfo? _broken;

    /// <summary>Opens a runspace of <paramref name="state"/> at <paramref name="location"/> and parses the block for it.</summary>
    public RunspaceProcessor(InitialSessionState state, BlockText text, RetryRules rules, string? location, Cache.CachedCalls? calls)
    {
        _runspace = RunspaceFactory.CreateRunspace(state);
        // Pipelines run on the runspace's own thread (below), not on a thread made for each one.
        _runspace.ThreadOptions = PSThreadOptions.UseCurrentThread;
        try
        {
            _runspace.Open();
        }
        catch (Exception e) when (e is RuntimeException or RunspaceOpenModuleLoadException)
        {
            _runspace.Dispose();
            throw new CheckpointException(ErrorIds.ImportModuleFailed, $"A module of -ImportModule failed to import into a worker runspace: {e.Message}", e);
        }

        try
        {
            // Relative paths in the block mean what they mean in the caller's session, as in ForEach-Object
            // -Parallel. A runspace opens at the process's current directory, often the caller's location already.
            PathIntrinsics path = _runspace.SessionStateProxy.Path;
            if (location is not null && !string.Equals(location, path.CurrentFileSystemLocation.ProviderPath, StringComparison.Ordinal))
            {
                path.SetLocation(WildcardPattern.Escape(location));
            }

            // Not bound to a runspace: it runs in the session state of the runspace that invokes it, this one.
            _attempts = new ScriptBlockProcessor(text.Compile(), text, rules, calls);
            _thread = new Thread(RunPipelines) { IsBackground = true, Name = "Checkpoint worker runspace" };
            _thread.Start();
        }
        catch
        {
            _runspace.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Where the records that attempts write to the pipeline's other streams go as they are written, to come
    /// out on the caller's streams, as in ForEach-Object -Parallel. Set before the first attempt.
    /// </summary>
    public Action<object> Streamed { get; set; } = _ => { };

    /// <inheritdoc/>
    public SampleOutcome Process(Sample sample, SampleContext context, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var request = new Request(sample, context, cancellationToken);
        lock (_gate)
        {
            _broken?.Throw();
            _request = request;
            Monitor.PulseAll(_gate);
            while (!request.Done && _broken is null)
            {
                Monitor.Wait(_gate);
            }

            if (!request.Done)
            {
                _broken!.Throw();
            }
        }

        request.Stopped?.Throw();
        return request.Outcome!;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _closing = true;
            Monitor.PulseAll(_gate);
        }

        _thread.Join();
        _runspace.Dispose();
    }

    // The runspace's thread: one pipeline after another, each serving attempts until a stop ends it.
    private void RunPipelines()
    {
        try
        {
            bool closed = false;
            while (!closed)
            {
                using PowerShell shell = PowerShell.Create();
                shell.Runspace = _runspace;
                PassOn(shell.Streams);
                var serve = new Serving(this, shell);
                shell.AddScript(ServeScript).AddArgument(new Action(serve.Run));
                try
                {
                    shell.Invoke();
                }
                catch (PipelineStoppedException)
                {
                    // Stopped after its last attempt: the next attempts run in a new pipeline.
                }

                serve.Thrown?.Throw();
                closed = serve.Closed;
            }
        }
        catch (Exception e)
        {
            lock (_gate)
            {
                _broken = ExceptionDispatchInfo.Capture(e);
                Monitor.PulseAll(_gate);
            }
        }
    }

    // Inside the pipeline: takes the attempts handed over, one at a time, until the processor closes or a
    // stop reaches the pipeline.
    private void Serve(Serving serving)
    {
        PowerShell shell = serving.Shell;
        while (true)
        {
            Request request;
            lock (_gate)
            {
                while (_request is null && !_closing)
                {
                    Monitor.Wait(_gate);
                }

                if (_request is null)
                {
                    serving.Closed = true;
                    return;
                }

                request = _request;
                _request = null;
            }

            try
            {
                // A stop ends this pipeline; the flag, set first, makes the loop leave it after this attempt.
                using (request.CancellationToken.Register(() =>
                {
                    serving.Stopped = true;
                    shell.BeginStop(null, null);
                }))
                {
                    request.Outcome = RunAttempt(shell, request);
                }
            }
            catch (OperationCanceledException e)
            {
                request.Stopped = ExceptionDispatchInfo.Capture(e);
            }

            lock (_gate)
            {
                request.Done = true;
                Monitor.PulseAll(_gate);
            }

            if (serving.Stopped)
            {
                return;
            }
        }
    }

    private SampleOutcome RunAttempt(PowerShell shell, Request request)
    {
        SampleOutcome outcome = _attempts.Process(request.Sample, request.Context, request.CancellationToken);
        // Passed on as they were written; kept no longer, so that nothing grows. (The block's progress is
        // dropped: the progress shown is the run's own.)
        shell.Streams.ClearStreams();
        return outcome;
    }

    // An error reaches the error stream only when the block asked for it (-ErrorAction Continue), and then, as
    // on the caller's thread, it does not fail the attempt.
    private void PassOn(PSDataStreams streams)
    {
        streams.Error.DataAdding += PassOn;
        streams.Warning.DataAdding += PassOn;
        streams.Verbose.DataAdding += PassOn;
        streams.Debug.DataAdding += PassOn;
        streams.Information.DataAdding += PassOn;
    }

    private void PassOn(object? sender, DataAddingEventArgs e) => Streamed(e.ItemAdded);

    /// <summary>
    /// The session state of a worker runspace: every built-in command (a runspace of CreateDefault2 would
    /// load even Start-Sleep by module autoloading, in each runspace) and the modules of
    /// <paramref name="importModule"/>.
    /// </summary>
    public static InitialSessionState NewSessionState(string[] importModule)
    {
        InitialSessionState state = InitialSessionState.CreateDefault();
        if (importModule.Length > 0)
        {
            state.ImportPSModule(importModule);
        }

        // A module that fails to import fails the run at once, not each of its samples.
        state.ThrowOnRunspaceOpenError = true;
        return state;
    }

    /// <summary>One attempt handed to the runspace's thread, and what came of it.</summary>
    private sealed class Request
    {
        public Request(Sample sample, SampleContext context, CancellationToken cancellationToken)
        {
            Sample = sample;
            Context = context;
            CancellationToken = cancellationToken;
        }

        public Sample Sample { get; }

        public SampleContext Context { get; }

        public CancellationToken CancellationToken { get; }

        public SampleOutcome? Outcome { get; set; }

        public ExceptionDispatchInfo? Stopped { get; set; }

        public bool Done { get; set; }
    }

    /// <summary>One pipeline serving attempts.</summary>
    private sealed class Serving
    {
        private readonly RunspaceProcessor _owner;
        private volatile bool _stopped;

        public Serving(RunspaceProcessor owner, PowerShell shell)
        {
            _owner = owner;
            Shell = shell;
        }

        public PowerShell Shell { get; }

        /// <summary>Set (from the thread that stops the attempt) when a stop reached the pipeline.</summary>
        public bool Stopped
        {
            get => _stopped;
            set => _stopped = value;
        }

        /// <summary>Set when the processor closed.</summary>
        public bool Closed { get; set; }

        public ExceptionDispatchInfo? Thrown { get; private set; }

        public void Run()
        {
            try
            {
                _owner.Serve(this);
            }
            catch (Exception e)
            {
                Thrown = ExceptionDispatchInfo.Capture(e);
            }
        }
    }
}
