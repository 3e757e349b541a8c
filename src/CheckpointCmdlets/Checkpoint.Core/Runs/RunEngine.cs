using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Threading;
using Checkpoint.Datasets;
using Checkpoint.Identity;
using Checkpoint.Store;

namespace Checkpoint.Runs;

/// <summary>
/// Runs one plan: validates the dataset, opens the run's store, and feeds every pending sample to the
/// processor, one attempt at a time, checkpointing each result. Data flows one way: dataset reader, then
/// the processor, then the store's single writer.
/// </summary>
public sealed class RunEngine
{
    private const int SkipMessagesShown = 3;
    private static readonly TimeSpan s_progressInterval = TimeSpan.FromMilliseconds(250);

    private readonly RunPlan _plan;
    private readonly RunIdentity _identity;

    /// <summary>Prepares a run of <paramref name="plan"/>.</summary>
    public RunEngine(RunPlan plan)
    {
        _plan = plan;
        _identity = RunIdentity.Create(plan.DatasetPath, plan.Model, plan.Config, plan.Seed);
    }

    /// <summary>The run's identity (dataset, model and config hash).</summary>
    public RunIdentity Identity => _identity;

    /// <summary>The run id: the plan's, an existing run's of the same identity, or a new one for today.</summary>
    public string ResolveRunId() => _plan.RunId ?? _identity.ResolveRunId(_plan.OutputDirectory, _plan.UtcNow());

    /// <summary>The files of the run (or of its shard).</summary>
    public RunFiles ResolveFiles() => new(_plan.OutputDirectory, ResolveRunId(), _plan.Shard);

    /// <summary>Counts what the run would do without creating or changing any file.</summary>
    public RunPreview Preview()
    {
        DatasetInfo dataset = DatasetReader.Scan(_plan.DatasetPath, _plan.IdColumn, InShard);
        RunFiles files = ResolveFiles();
        bool exists = File.Exists(files.ResultsPath);
        CheckpointIndex index = CheckpointLoader.Load(files.ResultsPath);
        int completed = 0, failed = 0, toProcess = 0;
        foreach (Sample sample in DatasetReader.Read(_plan.DatasetPath, _plan.IdColumn))
        {
            if (!InShard(sample.Id))
            {
                continue;
            }

            RecordStatus? status = index.Samples.TryGetValue(sample.Id, out SampleEntry entry) ? entry.Status : null;
            completed += status == RecordStatus.Completed ? 1 : 0;
            failed += status == RecordStatus.Failed ? 1 : 0;
            if (ShouldProcess(status) && (_plan.Limit is null || toProcess < _plan.Limit))
            {
                toProcess++;
            }
        }

        return new RunPreview(files.RunId, files.ResultsPath, exists, dataset.IncludedCount, completed, failed, toProcess);
    }

    /// <summary>
    /// Runs every pending sample (and, unless the plan says otherwise, every failed one) through
    /// <paramref name="processor"/>. Cancelling <paramref name="cancellationToken"/> stops the run cleanly: the
    /// sample in flight stays pending, the files are synced, and the state says Interrupted.
    /// </summary>
    public RunSummary Execute(ISampleProcessor processor, IRunObserver observer, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        DatasetInfo dataset = DatasetReader.Scan(_plan.DatasetPath, _plan.IdColumn, InShard);
        RunFiles files = ResolveFiles();
        bool existed = File.Exists(files.ResultsPath) && new FileInfo(files.ResultsPath).Length > 0;
        observer.Verbose("Checkpoint system enabled: " + files.ResultsPath);
        if (existed)
        {
            observer.Verbose("Loading existing checkpoint from " + files.ResultsPath);
        }

        using CheckpointStore store = CheckpointStore.Open(files, _plan.CheckpointEvery);
        foreach (string warning in store.Warnings)
        {
            observer.Warning(warning);
        }

        if (existed)
        {
            observer.Verbose(string.Format(CultureInfo.InvariantCulture, "Loaded {0} completed samples from checkpoint", store.Index.CompletedCount));
            observer.Verbose("Restored random state for deterministic resume");
        }

        PrepareState(store, dataset, observer);
        store.Checkpoint();

        var counts = new Counts();
        bool cancelled = false;
        var lastProgress = Stopwatch.StartNew();
        try
        {
            foreach (Sample sample in DatasetReader.Read(_plan.DatasetPath, _plan.IdColumn))
            {
                if (!InShard(sample.Id))
                {
                    continue;
                }

                RecordStatus? status = store.Index.Samples.TryGetValue(sample.Id, out SampleEntry entry) ? entry.Status : null;
                bool limitReached = _plan.Limit is int limit && counts.Processed >= limit;
                if (!ShouldProcess(status) || limitReached || cancellationToken.IsCancellationRequested)
                {
                    counts.Count(status);
                    if (status == RecordStatus.Completed)
                    {
                        counts.Skipped++;
                        if (counts.Skipped <= SkipMessagesShown)
                        {
                            observer.Verbose("Skipping completed sample: " + sample.Id);
                        }
                    }

                    continue;
                }

                RecordStatus outcome = RunSample(store, processor, observer, sample, entry.Attempt, status is not null, cancellationToken);
                counts.Processed++;
                counts.Count(outcome);
                if (lastProgress.Elapsed >= s_progressInterval)
                {
                    observer.Progress(MakeProgress(files.RunId, dataset.IncludedCount, store, counts, clock.Elapsed, finished: false));
                    lastProgress.Restart();
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            cancelled = true;
        }

        if (counts.Skipped > SkipMessagesShown)
        {
            observer.Verbose(string.Format(CultureInfo.InvariantCulture, "... (skipping {0} more completed samples)", counts.Skipped - SkipMessagesShown));
        }

        cancelled |= cancellationToken.IsCancellationRequested;
        if (cancelled)
        {
            // The dataset was not read to its end: count from the checkpoint instead.
            counts.Completed = Math.Min(store.Index.CompletedCount, dataset.IncludedCount);
            counts.Failed = Math.Min(store.Index.FailedCount, dataset.IncludedCount - counts.Completed);
        }

        RunStatus final = cancelled ? RunStatus.Interrupted
            : counts.Completed == dataset.IncludedCount ? RunStatus.Completed
            : RunStatus.Incomplete;
        store.State.TotalSamples = dataset.IncludedCount;
        store.Close(final);
        observer.Verbose(string.Format(CultureInfo.InvariantCulture, "Checkpoint saved: {0} completed, {1} errors", store.Index.CompletedCount, store.Index.ErrorCount));
        observer.Progress(MakeProgress(files.RunId, dataset.IncludedCount, store, counts, clock.Elapsed, finished: true));
        return new RunSummary
        {
            RunId = files.RunId,
            Dataset = dataset.Path,
            Model = _plan.Model,
            Shard = _plan.Shard?.ToString() ?? string.Empty,
            TotalSamples = dataset.IncludedCount,
            CompletedSamples = counts.Completed,
            FailedSamples = counts.Failed,
            PendingSamples = dataset.IncludedCount - counts.Completed - counts.Failed,
            ProcessedThisRun = counts.Processed,
            SkippedThisRun = counts.Skipped,
            Duration = clock.Elapsed,
            Status = final.ToString(),
            OutputDirectory = files.Directory,
            Path = files.ResultsPath,
        };
    }

    private static RunProgress MakeProgress(string runId, int total, CheckpointStore store, Counts counts, TimeSpan elapsed, bool finished)
    {
        double rate = elapsed.TotalSeconds > 0 ? counts.Processed / elapsed.TotalSeconds : 0;
        int left = Math.Max(0, total - store.Index.CompletedCount);
        TimeSpan? remaining = rate > 0 ? TimeSpan.FromSeconds(left / rate) : null;
        return new RunProgress(runId, total, Math.Min(total, store.Index.CompletedCount), store.Index.FailedCount, counts.Processed, rate, remaining, finished);
    }

    private bool InShard(string sampleId) => _plan.Shard is null || SampleSeeds.ShardOf(sampleId, _plan.Shard.Count) == _plan.Shard.Index - 1;

    private bool ShouldProcess(RecordStatus? status) => status switch
    {
        null => true,
        RecordStatus.Completed => _plan.NoResume,
        _ => !_plan.SkipFailed || _plan.NoResume,
    };

    private void PrepareState(CheckpointStore store, DatasetInfo dataset, IRunObserver observer)
    {
        RunState state = store.State;
        if (state.DatasetFingerprint is DatasetFingerprint before && dataset.Fingerprint.DescribeChangeFrom(before) is string change)
        {
            observer.Warning($"The dataset '{dataset.Path}' changed since the run last used it ({change}). Completed samples are matched by id; samples whose id is new are processed.");
        }

        state.DatasetPath = dataset.Path;
        state.DatasetFingerprint = dataset.Fingerprint;
        state.IdColumn = _plan.IdColumn;
        state.Model = _plan.Model;
        state.ConfigJson = ConfigJsonOf(_identity.CanonicalConfig);
        state.ConfigHash = _identity.ConfigHash;
        state.Seed = _plan.Seed;
        state.Shard = _plan.Shard?.ToString();
        state.TotalSamples = dataset.IncludedCount;
        state.Status = RunStatus.Running;
        if (state.StartedAt == default)
        {
            state.StartedAt = DateTimeOffset.UtcNow;
        }

        foreach (var setting in _plan.Settings)
        {
            state.Settings[setting.Key] = setting.Value;
        }
    }

    // The canonical config is {"model":..,"config":{..},"seed":..}; the state keeps the config part.
    private static string ConfigJsonOf(string canonical)
    {
        using var document = System.Text.Json.JsonDocument.Parse(canonical);
        return document.RootElement.GetProperty("config").GetRawText();
    }

    private RecordStatus RunSample(CheckpointStore store, ISampleProcessor processor, IRunObserver observer, Sample sample, int previousAttempt, bool seenBefore, CancellationToken cancellationToken)
    {
        int attempt = seenBefore ? previousAttempt : 0;
        for (int retry = 0; retry <= _plan.MaxRetries; retry++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            attempt++;
            var context = new SampleContext(store.Files.RunId, sample.Id, attempt, _plan.Model, _plan.Config, _plan.Seed, _plan.Shard?.ToString());
            DateTimeOffset started = DateTimeOffset.UtcNow;
            var timer = Stopwatch.StartNew();
            SampleOutcome outcome = processor.Process(sample, context, cancellationToken);
            timer.Stop();
            var record = new CheckpointRecord
            {
                SampleId = sample.Id,
                Status = outcome.Succeeded ? RecordStatus.Completed : RecordStatus.Failed,
                Attempt = attempt,
                StartedAt = started,
                CompletedAt = started + timer.Elapsed,
                DurationMs = timer.Elapsed.TotalMilliseconds,
                Shard = _plan.Shard?.ToString(),
                OutputJson = outcome.Succeeded ? outcome.OutputJson : null,
                Error = outcome.Succeeded ? null : new RecordError
                {
                    Type = outcome.ErrorType ?? "Error",
                    Message = outcome.ErrorMessage ?? string.Empty,
                    Transient = outcome.Transient,
                    HttpStatus = outcome.HttpStatus,
                },
            };
            if (store.Append(record, outcome.Context))
            {
                observer.Verbose(string.Format(CultureInfo.InvariantCulture, "Checkpoint saved: {0} completed, {1} errors", store.Index.CompletedCount, store.Index.ErrorCount));
            }

            bool last = outcome.Succeeded || retry == _plan.MaxRetries;
            if (!outcome.Succeeded)
            {
                observer.Verbose($"Error processing sample {sample.Id}: {record.Error!.Type}{(last ? string.Empty : " (will retry)")}");
            }

            if (last)
            {
                observer.SampleFinished(SampleResult.FromRecord(store.Files.RunId, record));
                return record.Status;
            }
        }

        throw new InvalidOperationException("unreachable");
    }

    private sealed class Counts
    {
        public int Processed { get; set; }

        public int Skipped { get; set; }

        public int Completed { get; set; }

        public int Failed { get; set; }

        public void Count(RecordStatus? status)
        {
            if (status == RecordStatus.Completed)
            {
                Completed++;
            }
            else if (status == RecordStatus.Failed)
            {
                Failed++;
            }
        }
    }
}
