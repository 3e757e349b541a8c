using System.Runtime.CompilerServices;

namespace Checkpoint.Store;

/// <summary>
/// Which record of a sample counts when a run holds several: the one rule of the loader, of the store's index
/// as it appends, and of a run that reads its other parts. Every failed attempt is counted whichever wins.
/// </summary>
internal static class RecordMerge
{
    /// <summary>
    /// Two records of one file, <paramref name="later"/> after <paramref name="earlier"/>: the later one wins,
    /// a completed one too. One writer appends to a file (the run's lock), so the file's order is that writer's
    /// own, where times from several clocks are not; and a record after a completed one is a -NoResume rerun,
    /// whose new result, or failure, is what the user asked the run for.
    /// </summary>
    [MethodImpl(JitOptions.Optimized)]
    public static SampleEntry InOneFile(SampleEntry earlier, SampleEntry later) =>
        later.WithFailedAttempts(earlier.FailedAttempts + later.FailedAttempts);

    /// <summary>
    /// The records that count in two files of one run, <paramref name="first"/> from the file read first. A
    /// completed record wins whatever the times say: they come from other nodes' clocks, and a failed or
    /// abandoned attempt that looks later must not turn a paid result back into pending. Of two completed
    /// records the earlier wins, so a result once read stays the result; of two others the later one. An
    /// exact tie goes to <paramref name="first"/>.
    /// </summary>
    [MethodImpl(JitOptions.Optimized)]
    public static SampleEntry AcrossFiles(SampleEntry first, SampleEntry second)
    {
        bool firstDone = first.Status == RecordStatus.Completed;
        bool secondDone = second.Status == RecordStatus.Completed;
        bool secondWins = firstDone != secondDone ? secondDone
            : firstDone ? second.CompletedAtTicks < first.CompletedAtTicks
            : second.CompletedAtTicks > first.CompletedAtTicks;
        return (secondWins ? second : first).WithFailedAttempts(first.FailedAttempts + second.FailedAttempts);
    }
}
