namespace Checkpoint.Runs;

/// <summary>What a run would do, counted without touching a file (-WhatIf).</summary>
public sealed class RunPreview
{
    internal RunPreview(string runId, string resultsPath, bool exists, int total, int completed, int failed, int toProcess, decimal costSoFar, decimal? costPerSample)
    {
        CostSoFar = costSoFar;
        CostPerSample = costPerSample;
        RunId = runId;
        ResultsPath = resultsPath;
        Exists = exists;
        Total = total;
        Completed = completed;
        Failed = failed;
        ToProcess = toProcess;
    }

    /// <summary>The run id that would be used.</summary>
    public string RunId { get; }

    /// <summary>The results file.</summary>
    public string ResultsPath { get; }

    /// <summary>True when the run has files already.</summary>
    public bool Exists { get; }

    /// <summary>Samples in the run (or shard).</summary>
    public int Total { get; }

    /// <summary>Samples already completed.</summary>
    public int Completed { get; }

    /// <summary>Samples whose latest attempt failed.</summary>
    public int Failed { get; }

    /// <summary>Samples never attempted.</summary>
    public int Pending => Total - Completed - Failed;

    /// <summary>Samples the run would process now (after -Limit, -NoResume, -SkipFailed).</summary>
    public int ToProcess { get; }

    /// <summary>What the run has cost so far.</summary>
    public decimal CostSoFar { get; }

    /// <summary>The average cost of a completed sample so far, or the caller's estimate; null when unknown.</summary>
    public decimal? CostPerSample { get; }

    /// <summary>ToProcess x CostPerSample, or null when the cost per sample is unknown.</summary>
    public decimal? EstimatedCost => CostPerSample is decimal each ? decimal.Round(each * ToProcess, 6) : null;
}
