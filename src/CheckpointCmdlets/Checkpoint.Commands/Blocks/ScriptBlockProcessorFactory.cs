using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Runtime.ExceptionServices;
using System.Threading;
using Checkpoint.Runs;

namespace Checkpoint.Commands.Blocks;

/// <summary>
/// The processors of a run of a -Process block: in the caller's runspace when the engine runs inline, else
/// one runspace per worker, each with the default commands plus the modules of -ImportModule.
/// </summary>
/// <remarks>
/// Worker runspaces start opening when the factory is made, while the run loads its checkpoint and reads
/// the dataset, on as many threads as there are cores: opened all at once they would compete for the cores
/// and all be ready late; opened a few at a time, the first ones take samples while the others open.
/// </remarks>
internal sealed class ScriptBlockProcessorFactory : ISampleProcessorFactory, IDisposable
{
    private readonly ScriptBlock _block;
    private readonly BlockText _text;
    private readonly RetryRules _rules;
    private readonly string? _location;
    private readonly Cache.CachedCalls? _calls;
    private readonly Lazy<InitialSessionState> _state;
    private readonly SemaphoreSlim _opening = new(Environment.ProcessorCount);
    private readonly BlockingCollection<Opened> _opened = new();
    private readonly List<Thread> _openers = new();
    private int _toOpen;
    private int _toTake;
    private volatile bool _disposed;

    /// <summary>
    /// Starts opening <paramref name="workers"/> runspaces ahead (none for a run on the caller's thread), each
    /// at <paramref name="location"/>, the caller's file system location.
    /// </summary>
    public ScriptBlockProcessorFactory(ScriptBlock block, BlockText text, RetryRules rules, string[] importModule, string? location, int workers, Cache.CachedCalls? calls = null)
    {
        _calls = calls;
        _block = block;
        _text = text;
        _rules = rules;
        _location = location;
        _state = new Lazy<InitialSessionState>(() => RunspaceProcessor.NewSessionState(importModule), LazyThreadSafetyMode.ExecutionAndPublication);
        _toOpen = _toTake = workers;
        for (int i = 0; i < Math.Min(workers, Environment.ProcessorCount); i++)
        {
            var opener = new Thread(OpenAhead) { IsBackground = true, Name = "Checkpoint runspace opener" };
            _openers.Add(opener);
            opener.Start();
        }
    }

    public ISampleProcessor? CreateInline() => ScriptBlockProcessor.InCallerRunspace(_block, _text, _rules, _calls);

    /// <summary>A runspace opened ahead, while there are some; then (later passes of a run) a new one.</summary>
    public ISampleProcessor CreateWorker(Action<object> streamed)
    {
        RunspaceProcessor processor;
        if (Interlocked.Decrement(ref _toTake) < 0)
        {
            processor = Open();
        }
        else
        {
            Opened opened = _opened.Take();
            opened.Error?.Throw();
            processor = opened.Processor!;
        }

        processor.Streamed = streamed;
        return processor;
    }

    /// <summary>Stops opening runspaces ahead and closes those no worker took.</summary>
    public void Dispose()
    {
        _disposed = true;
        foreach (Thread opener in _openers)
        {
            opener.Join();
        }

        _opened.CompleteAdding();
        foreach (Opened unused in _opened)
        {
            unused.Processor?.Dispose();
        }

        _opened.Dispose();
        _opening.Dispose();
    }

    private void OpenAhead()
    {
        while (!_disposed && Interlocked.Decrement(ref _toOpen) >= 0)
        {
            try
            {
                _opened.Add(new Opened(Open(), null));
            }
            catch (Exception e)
            {
                _opened.Add(new Opened(null, ExceptionDispatchInfo.Capture(e)));
            }
        }
    }

    private RunspaceProcessor Open()
    {
        _opening.Wait();
        try
        {
            return new RunspaceProcessor(_state.Value, _text, _rules, _location, _calls);
        }
        finally
        {
            _opening.Release();
        }
    }

    private sealed record Opened(RunspaceProcessor? Processor, ExceptionDispatchInfo? Error);
}
