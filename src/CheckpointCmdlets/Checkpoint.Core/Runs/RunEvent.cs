using System;
using Checkpoint.Store;

namespace Checkpoint.Runs;

/// <summary>Something a sample's work reports, carried to the caller's thread before the observer sees it.</summary>
internal sealed class RunEvent
{
    private RunEvent(RunEventKind kind)
    {
        Kind = kind;
    }

    public RunEventKind Kind { get; }

    public string? Message { get; private init; }

    public SampleResult? Result { get; private init; }

    /// <summary>For <see cref="RunEventKind.Finished"/>: the sample's status now, or null when it was left pending.</summary>
    public RecordStatus? FinalStatus { get; private init; }

    public bool GivenUp { get; private init; }

    public Exception? Error { get; private init; }

    /// <summary>For <see cref="RunEventKind.Streamed"/>: a record the block wrote to one of its other streams.</summary>
    public object? Record { get; private init; }

    public static RunEvent Verbose(string message) => new(RunEventKind.Verbose) { Message = message };

    /// <summary>For a sample left pending by an outage: the sample, to try again once the API is back.</summary>
    public Datasets.Sample? Abandoned { get; private init; }

    public static RunEvent Finished(SampleResult? result, RecordStatus? status, bool givenUp, Datasets.Sample? abandoned = null) =>
        new(RunEventKind.Finished) { Result = result, FinalStatus = status, GivenUp = givenUp, Abandoned = abandoned };

    public static RunEvent Fatal(Exception error) => new(RunEventKind.Fatal) { Error = error };

    public static RunEvent Streamed(object record) => new(RunEventKind.Streamed) { Record = record };
}

/// <summary>The kinds of <see cref="RunEvent"/>.</summary>
internal enum RunEventKind
{
    Verbose,
    Finished,
    Fatal,
    Streamed,
}
