using System;
using System.IO;
using System.Threading;

namespace Checkpoint.IO;

/// <summary>
/// Opens that may meet a name another node has just removed. A client of a shared file system (NFS, FUSE) can
/// keep a removed file's name cached for a moment: a look finds it, and an open that would create it fails with
/// "not found". Such an open is made again shortly, for a bounded time.
/// </summary>
internal static class StaleNames
{
    private static readonly TimeSpan s_pause = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan s_longest = TimeSpan.FromSeconds(5);

    /// <summary>Runs <paramref name="open"/> (an open that creates the file when missing) until it does not fail with "not found".</summary>
    public static FileStream OpenOrCreate(Func<FileStream> open)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return open();
            }
            catch (FileNotFoundException) when (clock.Elapsed < s_longest)
            {
                Thread.Sleep(s_pause);
            }
        }
    }
}
