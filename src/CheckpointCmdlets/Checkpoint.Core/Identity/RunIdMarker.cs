using System;
using System.Diagnostics;
using System.IO;
using System.Text;
using System.Threading;
using Checkpoint.IO;

namespace Checkpoint.Identity;

/// <summary>
/// The file that settles which run every start of one study joins: <c>{dataset}_{model}_{hash8}.runid</c>
/// in the output directory, holding the run id. The first writer creates it exclusively (O_EXCL, atomic on
/// local file systems and NFSv3 and later), so two starts on either side of 00:00 UTC, or in the same second
/// before either has written a file, cannot make two runs. Readers only read it; it belongs to the run it
/// names and goes when that run's last part is removed.
/// </summary>
internal static class RunIdMarker
{
    /// <summary>The file name suffix of a marker; no run file ends in it, so no reader lists it as a run.</summary>
    public const string Extension = ".runid";

    /// <summary>
    /// How long a start waits for the creator of a marker found empty or half-written to finish it. The
    /// creator writes it at once, but over NFS another node sees the bytes only once the creator's fsync
    /// reaches the server.
    /// </summary>
    public static readonly TimeSpan SettleTime = TimeSpan.FromSeconds(2);

    private static readonly TimeSpan s_poll = TimeSpan.FromMilliseconds(50);

    // A run id is at most 8 + 1 + 64 + 1 + 64 + 1 + 8 characters; anything longer is not a marker's.
    private const int MaxLength = 256;

    private const int MaxCreateAttempts = 3;

    /// <summary>The marker of the runs whose ids end in <paramref name="suffix"/> (<c>_{dataset}_{model}_{hash8}</c>).</summary>
    public static string PathFor(string directory, string suffix) => Path.Combine(directory, suffix.Substring(1) + Extension);

    /// <summary>True when the marker in <paramref name="directory"/> names <paramref name="runId"/>: the marker is that run's.</summary>
    public static bool Names(string directory, string runId) =>
        string.Equals(Read(PathFor(directory, runId.Substring(8))).Text, runId, StringComparison.Ordinal);

    /// <summary>The run id the marker holds when it is a run id of <paramref name="identity"/>; null otherwise. Never writes.</summary>
    public static string? RunIdOf(RunIdentity identity, string directory)
    {
        string? text = Read(PathFor(directory, identity.Suffix)).Text;
        return identity.IsRunIdOf(text) ? text : null;
    }

    /// <summary>
    /// The run id that a writer about to create a run's files in <paramref name="directory"/> joins, settled by
    /// the marker: the id it holds, or, when there is none, the earliest existing run of the identity (a run
    /// begun before markers, which then gets one) or a new id dated <paramref name="today"/>, written into a
    /// marker created exclusively. A marker that stays empty or half-written for <paramref name="settleTime"/>
    /// is taken over. Where no marker can be written, the id is found as a reader finds it; opening the run's
    /// files there then says what is wrong.
    /// </summary>
    public static string Claim(RunIdentity identity, string directory, DateTime today, TimeSpan settleTime)
    {
        try
        {
            Directory.CreateDirectory(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return identity.ResolveRunId(directory, today);
        }

        string path = PathFor(directory, identity.Suffix);
        Stopwatch? waited = null;
        for (int created = 0; ; )
        {
            Content content = Read(path);
            if (identity.IsRunIdOf(content.Text))
            {
                return content.Text!;
            }

            if (!content.Exists)
            {
                string candidate = identity.FindExisting(directory) ?? identity.RunIdFor(today);
                if (++created > MaxCreateAttempts)
                {
                    // Created and removed again each time (a Remove-Checkpoint racing this start): go on alone.
                    return candidate;
                }

                switch (TryCreate(path, candidate))
                {
                    case Created.Yes:
                        // A start that gave up waiting on this marker may have taken it over meanwhile: join its id.
                        string? after = Read(path).Text;
                        return identity.IsRunIdOf(after) ? after! : candidate;
                    case Created.NotPossible:
                        return candidate;
                    default:
                        continue;
                }
            }

            waited ??= Stopwatch.StartNew();
            if (waited.Elapsed < settleTime)
            {
                Thread.Sleep(s_poll);
                continue;
            }

            return TakeOver(identity, directory, path, content, today);
        }
    }

    // Its creator was stopped between creating and writing it, so no run was made under the id it meant to
    // write. Every start that finds it so computes the same id: the earliest existing run, else the day the
    // marker was made (its time, as the file system keeps it, is the same for every node; each start's own
    // clock is not). The id replaces the marker whole, so no reader sees a half-written one again.
    private static string TakeOver(RunIdentity identity, string directory, string path, Content stale, DateTime today)
    {
        string runId = identity.FindExisting(directory) ?? identity.RunIdFor(stale.LastWriteUtc == default ? today : stale.LastWriteUtc);
        try
        {
            AtomicFile.Write(path, Encoding.ASCII.GetBytes(runId + "\n"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Another start replacing it at the same moment, or a marker that cannot be replaced: read it once more.
        }

        string? now = Read(path).Text;
        return identity.IsRunIdOf(now) ? now! : runId;
    }

    private enum Created
    {
        Yes,
        AlreadyThere,
        NotPossible,
    }

    private static Created TryCreate(string path, string runId)
    {
        FileStream stream;
        try
        {
            // Shared as readers share it, so that on Windows a start reading it, or taking over a stale one, is
            // never refused while this one writes.
            stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, AtomicFile.ReaderShare, 1, FileOptions.None);
        }
        catch (IOException) when (File.Exists(path))
        {
            return Created.AlreadyThere;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Created.NotPossible;
        }

        try
        {
            using (stream)
            {
                byte[] bytes = Encoding.ASCII.GetBytes(runId + "\n");
                stream.Write(bytes, 0, bytes.Length);
                NativeFile.Fsync(stream.SafeFileHandle, path);
            }

            NativeFile.FsyncDirectory(Path.GetDirectoryName(path)!);
        }
        catch (IOException e)
        {
            // The marker may now be empty or half-written; another start takes it over after waiting.
            throw new CheckpointException(ErrorIds.CheckpointWriteFailed, $"Writing the run id marker '{path}' failed: {e.Message}. Fix the cause and start the run again.", e) { Target = path };
        }

        return Created.Yes;
    }

    private readonly struct Content
    {
        public Content(bool exists, string? text, DateTime lastWriteUtc)
        {
            Exists = exists;
            Text = text;
            LastWriteUtc = lastWriteUtc;
        }

        public bool Exists { get; }

        // The run id it holds, or null when it is empty, half-written, too long or unreadable.
        public string? Text { get; }

        // When it was last written, as the file system keeps it; default when that could not be read.
        public DateTime LastWriteUtc { get; }
    }

    private static Content Read(string path)
    {
        // The time first: a start taking the marker over replaces it whole, so a time read before the bytes is
        // never newer than a marker whose bytes this start found empty.
        DateTime lastWrite = default;
        byte[] buffer = new byte[MaxLength + 1];
        int filled = 0;
        try
        {
            lastWrite = File.GetLastWriteTimeUtc(path);
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, AtomicFile.ReaderShare, 1, FileOptions.None);
            int read;
            while (filled < buffer.Length && (read = stream.Read(buffer, filled, buffer.Length - filled)) > 0)
            {
                filled += read;
            }
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return new Content(false, null, default);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new Content(true, null, lastWrite);
        }

        string text = Encoding.ASCII.GetString(buffer, 0, filled).TrimEnd('\n', '\r', ' ', '\t');
        return new Content(true, filled <= MaxLength && text.Length > 0 ? text : null, lastWrite);
    }
}
