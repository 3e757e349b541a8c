using System;
using System.Collections.Generic;

namespace Checkpoint.Store;

/// <summary>
/// A run's manifest and state, kept in <c>{base}_resume_state.json</c>. It is a cache of what the JSONL says
/// plus what the run was started with; when it is missing or damaged it is rebuilt from the JSONL.
/// </summary>
public sealed class RunState
{
    /// <summary>The state file format this library writes.</summary>
    public const int CurrentFormatVersion = 1;

    /// <summary>The state file format version.</summary>
    public int FormatVersion { get; set; } = CurrentFormatVersion;

    /// <summary>The module version that last wrote the state.</summary>
    public string ModuleVersion { get; set; } = ThisAssembly.Version;

    /// <summary>The run id.</summary>
    public string RunId { get; set; } = string.Empty;

    /// <summary>The shard, as k/n, or null.</summary>
    public string? Shard { get; set; }

    /// <summary>The dataset file's full path when the run last started.</summary>
    public string? DatasetPath { get; set; }

    /// <summary>The dataset's size and hash when the run last started.</summary>
    public Datasets.DatasetFingerprint? DatasetFingerprint { get; set; }

    /// <summary>The id column asked for, or null for the default.</summary>
    public string? IdColumn { get; set; }

    /// <summary>The model name.</summary>
    public string? Model { get; set; }

    /// <summary>The configuration without secrets, as canonical JSON.</summary>
    public string? ConfigJson { get; set; }

    /// <summary>The config hash, 8 hex digits.</summary>
    public string? ConfigHash { get; set; }

    /// <summary>The run seed.</summary>
    public int Seed { get; set; }

    /// <summary>Samples in the dataset (or in this shard of it).</summary>
    public int TotalSamples { get; set; }

    /// <summary>Samples whose latest record is completed.</summary>
    public int CompletedSamples { get; set; }

    /// <summary>Samples whose latest record is failed.</summary>
    public int FailedSamples { get; set; }

    /// <summary>Failed attempts recorded.</summary>
    public int ErrorCount { get; set; }

    /// <summary>Where the run stands.</summary>
    public RunStatus Status { get; set; } = RunStatus.Running;

    /// <summary>When the run first started (UTC).</summary>
    public DateTimeOffset StartedAt { get; set; }

    /// <summary>When the state was last written at a checkpoint (UTC).</summary>
    public DateTimeOffset LastCheckpoint { get; set; }

    /// <summary>
    /// Further settings the caller keeps with the run (for example what a resume needs to rebuild it),
    /// as plain values. Never holds secrets.
    /// </summary>
    public SortedDictionary<string, object?> Settings { get; set; } = new(StringComparer.Ordinal);
}
