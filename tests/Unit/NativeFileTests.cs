using System;
using System.Collections.Generic;
using System.Linq;
using Checkpoint.IO;
using Xunit;

namespace Checkpoint.Tests;

/// <summary>
/// The platform decisions of <see cref="NativeFile"/>: which sync call each operating system makes, the macOS
/// fallback from F_FULLFSYNC to fsync, and the bounded Windows retry of a replace. This machine runs Linux
/// only, so the decisions are tested with stand-ins for the system calls.
/// </summary>
public sealed class NativeFileTests
{
    private const int EINTR = 4;
    private const int EIO = 5;
    private const int EINVAL = 22;
    private const int MacENOTSUP = 45;
    private const int ErrorFileNotFound = 2;
    private const int ErrorPathNotFound = 3;
    private const int ErrorAccessDenied = 5;
    private const int ErrorSharingViolation = 32;
    private const int ErrorDiskFull = 112;

    [Fact]
    public void EachPlatformSyncsAFileWithItsOwnCall()
    {
        Assert.Equal(NativeFile.FileSync.Fsync, NativeFile.FileSyncFor(NativeFile.Platform.Linux));
        Assert.Equal(NativeFile.FileSync.FullFsync, NativeFile.FileSyncFor(NativeFile.Platform.MacOS));
        Assert.Equal(NativeFile.FileSync.FlushFileBuffers, NativeFile.FileSyncFor(NativeFile.Platform.Windows));
    }

    [Fact]
    public void LinuxCallsFsyncOnlyAndItsFailureIsReported()
    {
        var calls = new List<string>();

        Assert.Null(NativeFile.SyncUnix(NativeFile.FileSync.Fsync, Call(calls, "fcntl", 0), Call(calls, "fsync", 0)));
        Assert.Equal(new[] { "fsync" }, calls);

        calls.Clear();
        Assert.Equal(("fsync", EIO), NativeFile.SyncUnix(NativeFile.FileSync.Fsync, Call(calls, "fcntl", 0), Call(calls, "fsync", EIO)));
        Assert.Equal(new[] { "fsync" }, calls);
    }

    [Fact]
    public void MacOSCallsFullFsyncAndNothingElseWhenItSucceeds()
    {
        var calls = new List<string>();

        Assert.Null(NativeFile.SyncUnix(NativeFile.FileSync.FullFsync, Call(calls, "fcntl", 0), Call(calls, "fsync", 0)));

        Assert.Equal(new[] { "fcntl" }, calls);
    }

    [Theory]
    [InlineData(MacENOTSUP)]
    [InlineData(EINVAL)]
    public void MacOSFallsBackToFsyncWhereTheFileSystemHasNoFullFsync(int unsupported)
    {
        var calls = new List<string>();

        Assert.Null(NativeFile.SyncUnix(NativeFile.FileSync.FullFsync, Call(calls, "fcntl", unsupported), Call(calls, "fsync", 0)));
        Assert.Equal(new[] { "fcntl", "fsync" }, calls);

        calls.Clear();
        Assert.Equal(("fsync", EIO), NativeFile.SyncUnix(NativeFile.FileSync.FullFsync, Call(calls, "fcntl", unsupported), Call(calls, "fsync", EIO)));
        Assert.Equal(new[] { "fcntl", "fsync" }, calls);
    }

    [Fact]
    public void AFailedFullFsyncIsFatalAndNeverPassedOverToFsync()
    {
        var calls = new List<string>();

        // An I/O error may have dropped the data: a plain fsync afterwards could report success and lie.
        Assert.Equal(("fcntl(F_FULLFSYNC)", EIO), NativeFile.SyncUnix(NativeFile.FileSync.FullFsync, Call(calls, "fcntl", EIO), Call(calls, "fsync", 0)));

        Assert.Equal(new[] { "fcntl" }, calls);
    }

    [Fact]
    public void AnInterruptedSyncIsCalledAgain()
    {
        var calls = new List<string>();

        Assert.Null(NativeFile.SyncUnix(NativeFile.FileSync.FullFsync, Call(calls, "fcntl", EINTR, EINTR, 0), Call(calls, "fsync", 0)));
        Assert.Equal(new[] { "fcntl", "fcntl", "fcntl" }, calls);

        calls.Clear();
        Assert.Null(NativeFile.SyncUnix(NativeFile.FileSync.Fsync, Call(calls, "fcntl", 0), Call(calls, "fsync", EINTR, 0)));
        Assert.Equal(new[] { "fsync", "fsync" }, calls);
    }

    [Theory]
    [InlineData(ErrorSharingViolation)]
    [InlineData(ErrorAccessDenied)]
    public void AWindowsReplaceHeldUpByAnotherProcessIsTriedAgainForUnderASecond(int error)
    {
        var waits = new List<TimeSpan>();
        int tries = 0;

        int result = NativeFile.WithReplaceRetries(() => { tries++; return error; }, waits.Add);

        Assert.Equal(error, result);
        Assert.Equal(NativeFile.ReplaceRetries + 1, tries);
        Assert.Equal(NativeFile.ReplaceRetries, waits.Count);
        Assert.All(waits, w => Assert.True(w > TimeSpan.Zero));
        TimeSpan total = TimeSpan.FromTicks(waits.Sum(w => w.Ticks));
        Assert.InRange(total, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(1));
    }

    [Fact]
    public void AWindowsReplaceSucceedsOnceTheOtherProcessLetsGo()
    {
        var waits = new List<TimeSpan>();
        var answers = new Queue<int>(new[] { ErrorSharingViolation, ErrorAccessDenied, 0 });

        int result = NativeFile.WithReplaceRetries(answers.Dequeue, waits.Add);

        Assert.Equal(0, result);
        Assert.Empty(answers);
        Assert.Equal(2, waits.Count);
    }

    [Theory]
    [InlineData(ErrorFileNotFound)]
    [InlineData(ErrorPathNotFound)]
    [InlineData(ErrorDiskFull)]
    public void AnyOtherWindowsReplaceErrorFailsAtOnce(int error)
    {
        var waits = new List<TimeSpan>();
        int tries = 0;

        int result = NativeFile.WithReplaceRetries(() => { tries++; return error; }, waits.Add);

        Assert.Equal(error, result);
        Assert.Equal(1, tries);
        Assert.Empty(waits);
        Assert.Null(NativeFile.ReplaceRetryDelay(error, 1));
    }

    // A stand-in for a system call: records its name and returns the given errnos in turn, then the last.
    private static Func<int> Call(List<string> calls, string name, params int[] results)
    {
        int next = 0;
        return () =>
        {
            calls.Add(name);
            return results[Math.Min(next++, results.Length - 1)];
        };
    }
}
