using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading;
using Checkpoint.Datasets;
using Checkpoint.Identity;
using Checkpoint.Security;
using Checkpoint.Store;
using Checkpoint.Sharding;

namespace Checkpoint.Runs;

/// <summary>
/// Prepares one plan and launches it: resolves the run id and files, validates the dataset, takes the run's
/// lease, opens its store and writes its state; then hands the open store to a <see cref="RunSession"/>,
/// which runs the pending samples. Data flows one way: dataset reader, then the processor, then the store's
/// single writer.
/// </summary>
public sealed class RunLauncher
{
    private readonly RunPlan _plan;
    private readonly RunDefinition _definition;
    private readonly RunIdentity _identity;

    /// <summary>Prepares a run of <paramref name="plan"/>.</summary>
    public RunLauncher(RunPlan plan)
    {
        _plan = plan;
        _definition = plan.Definition;
        _identity = RunIdentity.Create(_definition.DatasetPath, _definition.Model, _definition.Config, _definition.Seed);
    }

    /// <summary>The run's identity (dataset, model and config hash).</summary>
    public RunIdentity Identity => _identity;

    /// <summary>
    /// The run id as a reader finds it: the plan's, the one the run id marker holds, an existing run's of the
    /// same identity, or a new one for today. Creates no file; <see cref="Execute"/> settles the id by the marker.
    /// </summary>
    public string ResolveRunId() => ResolveRunId(_plan.UtcNow());

    /// <summary>The files of the run (or of its shard), as <see cref="ResolveRunId()"/> finds them.</summary>
    public RunFiles ResolveFiles() => FilesOf(ResolveRunId());

    /// <summary>Counts what the run would do without creating or changing any file.</summary>
    public RunPreview Preview()
    {
        DatasetInfo dataset = DatasetReader.Scan(_definition.DatasetPath, _definition.IdColumn, InShard);
        RunFiles files = ResolveFiles();
        CheckSameDataset(files, dataset, StateFile.Read(files.StatePath).State);
        bool exists = File.Exists(files.ResultsPath);
        CheckpointIndex index = CheckpointLoader.Load(files.ResultsPath);
        CheckpointIndex? others = LoadOtherParts(files);
        var selection = new SampleSelection(_plan, index, others);
        var tally = new RunTally();
        int toProcess = 0;
        foreach ((Sample _, SampleEntry? entry) in selection.Pending(tally, verbose: null, CancellationToken.None))
        {
            toProcess++;
            tally.Count(entry?.Status, entry?.IsFailed ?? false);
        }

        RunTotals totals = RunTotals.OfDataset(
            dataset.IncludedCount,
            tally.Completed,
            tally.Failed,
            index.Usage.InputTokens + (others?.Usage.InputTokens ?? 0),
            index.Usage.OutputTokens + (others?.Usage.OutputTokens ?? 0),
            index.Usage.Cost + (others?.Usage.Cost ?? 0));

        // Completed samples that cost nothing so far say nothing of what the next ones will cost.
        decimal? perSample = (totals.Cost > 0 ? totals.CostPerCompleted : null) ?? _plan.EstimatedCostPerSample;
        return new RunPreview(files.RunId, files.ResultsPath, exists, totals.Total, totals.Completed, totals.Failed, toProcess, totals.Cost, perSample);
    }

    /// <summary>
    /// Runs every pending sample (and, unless the plan says otherwise, every failed one) through the
    /// processors of <paramref name="factory"/>: on the caller's thread when it offers an inline processor,
    /// else on <see cref="RunDefinition.ThrottleLimit"/> worker threads. Every observer call comes on the caller's
    /// thread. Cancelling <paramref name="cancellationToken"/> stops the run cleanly: samples in flight stay
    /// pending, the files are synced, and the state says Interrupted.
    /// </summary>
    public RunSummary Execute(ISampleProcessorFactory factory, IRunObserver observer, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        DateTime today = _plan.UtcNow();
        RunFiles files = FilesOf(ResolveRunId(today));
        StateReadResult earlier = StateFile.Read(files.StatePath);
        DatasetInfo dataset = EarlierScan(earlier) ?? DatasetReader.Scan(_definition.DatasetPath, _definition.IdColumn, InShard);
        CheckSameDataset(files, dataset, earlier.State);

        // Settled here, where the run's files are about to be created, and not before the checks above, so that
        // a start refused for its input leaves no marker behind. A plan's own run id names its run as it is.
        if (_plan.RunId is null && _identity.ClaimRunId(_plan.OutputDirectory, today) is string claimed && claimed != files.RunId)
        {
            // Another start of the study settled it first (on the other side of midnight, or in the same moment).
            observer.Verbose($"Joining run {claimed}, which another start of the same dataset, model and config settled first.");
            files = FilesOf(claimed);
            CheckSameDataset(files, dataset, StateFile.Read(files.StatePath).State);
        }

        bool existed = File.Exists(files.ResultsPath) && new FileInfo(files.ResultsPath).Length > 0;
        observer.Verbose("Checkpoint system enabled: " + files.ResultsPath);
        if (existed)
        {
            observer.Verbose("Loading existing checkpoint from " + files.ResultsPath);
        }

        using CheckpointStore store = CheckpointStore.Open(files, _definition.CheckpointEvery, dataset.IncludedCount, notify: observer.Warning);
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

        // Re-sharding: the other parts of the run (other shards, or the unsharded files) count too.
        CheckpointIndex? others = LoadOtherParts(files);
        if (others is not null && others.CompletedCount > 0)
        {
            observer.Verbose(string.Format(CultureInfo.InvariantCulture, "Loaded {0} completed samples from the run's other shard files", others.CompletedCount));
        }

        var session = new RunSession(_plan, store, others, dataset, observer, clock);
        Exception? fatal = null;
        try
        {
            session.Run(factory, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            session.Cancelled = true;
        }
        catch (Exception e) when (e is CheckpointException)
        {
            fatal = e;
        }
        catch
        {
            // Anything else (a stop the caller's runtime raised, a bug): the run is interrupted, and its
            // files are closed as such before the error goes on.
            session.Cancelled = true;
            session.TryClose(RunStatus.Interrupted);
            throw;
        }

        return session.Finish(fatal, cancellationToken);
    }

    private string ResolveRunId(DateTime today) => _plan.RunId ?? _identity.ResolveRunId(_plan.OutputDirectory, today);

    private RunFiles FilesOf(string runId) => new(_plan.OutputDirectory, runId, _definition.Shard);

    // A resume of a run whose dataset has the size and last write time of its last full pass, with the same
    // id column and shard, trusts that pass (validation, counts, fingerprint) instead of reading the file twice.
    private DatasetInfo? EarlierScan(StateReadResult read)
    {
        RunState? state = read.State;
        if (read.Status != StateReadStatus.Valid || state?.DatasetFingerprint is not DatasetFingerprint fingerprint || state.DatasetPath is null
            || !string.Equals(Path.GetFullPath(state.DatasetPath), Path.GetFullPath(_definition.DatasetPath), StringComparison.Ordinal)
            || state.IdColumn != _definition.IdColumn || state.Shard != _definition.Shard?.ToString() || state.TotalSamples <= 0
            || !fingerprint.LooksUnchanged(_definition.DatasetPath))
        {
            return null;
        }

        return DatasetInfo.FromEarlierScan(_definition.DatasetPath, state.TotalSamples, fingerprint);
    }

    // A run id names a dataset by its file name, so two files of one name (a split's main/test.csv and
    // socratic/test.csv) run with one model and config share it. A run keeps to the dataset it was made from:
    // a file of that name elsewhere with other content, or the same samples named by another id column,
    // would mix two sets of samples in one run. A dataset edited in place, or moved unchanged, goes on.
    private void CheckSameDataset(RunFiles files, DatasetInfo dataset, RunState? state)
    {
        if (state?.DatasetPath is not string madeFrom)
        {
            return;
        }

        if (!string.Equals(Path.GetFullPath(madeFrom), Path.GetFullPath(dataset.Path), StringComparison.Ordinal)
            && state.DatasetFingerprint is DatasetFingerprint before
            && dataset.Fingerprint.DescribeChangeFrom(before) is string change)
        {
            throw new CheckpointException(
                ErrorIds.RunOfOtherDataset,
                $"Run '{files.RunId}' in '{files.Directory}' holds the results of '{madeFrom}'. '{dataset.Path}' has the same file name, model and config but other content ({change}), so their samples would be mixed in one run. Give it an -OutputDirectory of its own, or a file name of its own. If it is that dataset moved and edited, move it back to '{madeFrom}': the run then matches its samples by id.")
            {
                Target = dataset.Path,
            };
        }

        string idColumn = _definition.IdColumn ?? DatasetReader.DefaultIdColumn;
        if (!string.Equals(state.IdColumn ?? DatasetReader.DefaultIdColumn, idColumn, StringComparison.Ordinal))
        {
            throw new CheckpointException(
                ErrorIds.RunOfOtherDataset,
                $"Run '{files.RunId}' in '{files.Directory}' names its samples by {(state.IdColumn is null ? "the default id" : "the column '" + state.IdColumn + "'")}, not by the column '{idColumn}': going on would count the same rows again under other ids. Start it {(state.IdColumn is null ? "without -IdColumn" : "with -IdColumn " + state.IdColumn)}, or give the other id column an -OutputDirectory of its own.")
            {
                Target = dataset.Path,
            };
        }
    }

    private static CheckpointIndex? LoadOtherParts(RunFiles files)
    {
        List<string> paths = RunParts.Discover(files.Directory, files.RunId)
            .Where(p => p.BaseName != files.BaseName)
            .Select(p => p.ResultsPath)
            .ToList();
        return paths.Count == 0 ? null : CheckpointLoader.Load(paths);
    }

    // For the scan, which comes before the run's files are read and with them its selection.
    [MethodImpl(JitOptions.Optimized)]
    private bool InShard(string sampleId) => ShardMembership.Contains(_definition.Shard, sampleId);

    private void PrepareState(CheckpointStore store, DatasetInfo dataset, IRunObserver observer)
    {
        RunState state = store.State;
        if (state.DatasetFingerprint is DatasetFingerprint before && dataset.Fingerprint.DescribeChangeFrom(before) is string change)
        {
            observer.Warning($"The dataset '{dataset.Path}' changed since the run last used it ({change}). Completed samples are matched by id; samples whose id is new are processed.");
        }

        state.DatasetPath = dataset.Path;
        state.DatasetFingerprint = dataset.Fingerprint;
        state.ConfigJson = ConfigJsonOf(_identity.CanonicalConfig);
        state.ConfigHash = _identity.ConfigHash;
        state.TotalSamples = dataset.IncludedCount;
        state.Status = RunStatus.Running;
        if (state.StartedAt == default)
        {
            state.StartedAt = DateTimeOffset.UtcNow;
        }

        _definition.WriteTo(state);
        SignStoredBlock(state, observer);
    }

    // The block a resume will run is signed with the user's own key, so that one written into the state file by
    // anyone else (a shared output directory) is refused. Without a usable key the run goes on, unsigned.
    private static void SignStoredBlock(RunState state, IRunObserver observer)
    {
        if (UserKey.TryLoad(UserKey.DefaultPath(), create: true, out string? problem) is not byte[] key)
        {
            state.Settings.Remove(StoredProcessSignature.Setting);
            observer.Warning($"The -Process block this run keeps for its resumes is not signed: {problem}. Resume-CheckpointRun will run the run only with -Process given anew, or with -TrustStoredProcess.");
            return;
        }

        StoredProcessSignature.Sign(key, state);
    }

    // The canonical config is {"model":..,"config":{..},"seed":..}; the state keeps the config part.
    private static string ConfigJsonOf(string canonical)
    {
        using var document = System.Text.Json.JsonDocument.Parse(canonical);
        return document.RootElement.GetProperty("config").GetRawText();
    }
}
