using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading;
using Checkpoint.Datasets;
using Checkpoint.Store;
using Checkpoint.Sharding;

namespace Checkpoint.Runs;

/// <summary>
/// Which samples of a run's dataset the run processes now, by the rules every path follows: the sample is in
/// the plan's shard (<see cref="ShardMembership"/>), its winning record across the run's files
/// (<see cref="RecordMerge.AcrossFiles"/>) leaves it to do, and -Limit is not reached. A run's dispatch,
/// -WhatIf's preview and the counts of a run that ended early all read through here.
/// </summary>
internal sealed class SampleSelection
{
    private readonly RunPlan _plan;
    private readonly CheckpointStore? _store;
    private readonly CheckpointIndex _own;
    private readonly CheckpointIndex? _others;

    /// <summary>The selection of a run writing to <paramref name="store"/>, whose other parts are <paramref name="others"/>.</summary>
    public SampleSelection(RunPlan plan, CheckpointStore store, CheckpointIndex? others)
        : this(plan, store.Index, others)
    {
        _store = store;
    }

    /// <summary>The selection of a run as its files <paramref name="own"/> and <paramref name="others"/> were read.</summary>
    public SampleSelection(RunPlan plan, CheckpointIndex own, CheckpointIndex? others)
    {
        _plan = plan;
        _own = own;
        _others = others;
    }

    /// <summary>True when the sample belongs to the plan's shard (always, for an unsharded run).</summary>
    [MethodImpl(JitOptions.Optimized)]
    public bool InShard(string sampleId) => ShardMembership.Contains(_plan.Definition.Shard, sampleId);

    /// <summary>
    /// The winning record of <paramref name="sampleId"/> across the run's own file and its other parts, by the
    /// rule every reader of a run follows; an exact tie of times goes to the run's own file.
    /// </summary>
    [MethodImpl(JitOptions.Optimized)]
    public SampleEntry? Winning(string sampleId)
    {
        SampleEntry? own = Own(sampleId);
        SampleEntry theirs = default;
        bool inOthers = _others is not null && _others.Samples.TryGetValue(sampleId, out theirs);
        if (own is SampleEntry mine && inOthers)
        {
            return RecordMerge.AcrossFiles(mine, theirs);
        }

        return own ?? (inOthers ? theirs : null);
    }

    /// <summary>
    /// True when a sample with this winning record is to be processed: never attempted, left pending by a
    /// failed attempt that was not final, failed for good (unless -SkipFailed), or anything with -NoResume.
    /// </summary>
    [MethodImpl(JitOptions.Optimized)]
    public bool IsToDo(SampleEntry? entry)
    {
        if (entry is not SampleEntry e || _plan.NoResume)
        {
            return true;
        }

        return e.Status != RecordStatus.Completed && (!e.IsFailed || !_plan.SkipFailed);
    }

    /// <summary>
    /// The samples of the dataset (and shard) to process now, in file order, each with its winning record;
    /// the others are counted in <paramref name="tally"/>, and the first completed ones skipped told to
    /// <paramref name="verbose"/>.
    /// </summary>
    public IEnumerable<(Sample Sample, SampleEntry? Entry)> Pending(RunTally tally, Action<string>? verbose, CancellationToken cancellationToken)
    {
        // A resumed run reads its done rows by id alone (a fresh run has none to skip, so it asks nothing).
        // The reader asks about a row just before it hands the row over, so the entry it was answered from
        // is kept for that row: one lookup in the index per row instead of two.
        string? askedId = null;
        SampleEntry? askedEntry = null;
        Func<string, bool>? mayRun = _own.Samples.Count > 0 || _others is not null
            ? [MethodImpl(JitOptions.Optimized)] (id) =>
            {
                if (!InShard(id))
                {
                    return false;
                }

                askedId = id;
                askedEntry = Winning(id);
                return IsToDo(askedEntry);
            }
            : null;
        int taken = 0;
        foreach (Sample sample in DatasetReader.Read(_plan.Definition.DatasetPath, _plan.Definition.IdColumn, mayRun))
        {
            // The very string the reader asked about: in the shard, and its entry is known.
            bool asked = ReferenceEquals(sample.Id, askedId);
            if (!asked && !InShard(sample.Id))
            {
                continue;
            }

            SampleEntry? entry = asked ? askedEntry : Winning(sample.Id);
            bool limitReached = _plan.Limit is int limit && taken >= limit;
            if (limitReached || !IsToDo(entry))
            {
                tally.Count(entry?.Status, entry?.IsFailed ?? false);
                if (entry?.Status == RecordStatus.Completed && !_plan.NoResume)
                {
                    tally.Skip(sample.Id, verbose);
                }

                continue;
            }

            cancellationToken.ThrowIfCancellationRequested();
            taken++;
            yield return (sample, entry);
        }
    }

    /// <summary>
    /// The samples of the plan's shard (all, unsharded) whose winning record, in the run's own file or another
    /// part, is completed, and those failed for good: the counts of a run that did not read its dataset to the end.
    /// </summary>
    public (int Completed, int Failed) CountRecorded()
    {
        if (_others is null)
        {
            return (_own.CompletedCount, _own.FailedCount);
        }

        int completed = 0, failed = 0;
        foreach (string id in _own.Samples.Keys.Union(_others.Samples.Keys))
        {
            if (!InShard(id))
            {
                continue;
            }

            SampleEntry? entry = Winning(id);
            completed += entry?.Status == RecordStatus.Completed ? 1 : 0;
            failed += entry?.IsFailed == true ? 1 : 0;
        }

        return (completed, failed);
    }

    // The store's index takes appends from other threads while this reads it; a loaded index is read as it is.
    [MethodImpl(JitOptions.Optimized)]
    private SampleEntry? Own(string sampleId) =>
        _store is not null ? _store.Entry(sampleId) : _own.Samples.TryGetValue(sampleId, out SampleEntry entry) ? entry : null;
}
