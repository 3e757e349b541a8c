using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Threading;
using Checkpoint.IO;

namespace Checkpoint.Store;

/// <summary>
/// Taking a lease: creating its file exclusively, taking over a released or stale one (one taker wins, by a
/// claim file named after the stale token), and probing who holds one without changing anything.
/// </summary>
public sealed partial class RunLease
{
    // How often a taker looks again at a lease it waits on.
    private static readonly TimeSpan s_longestPoll = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan s_shortestPoll = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// Takes the lease at <paramref name="path"/>: creates it when there is none; takes over one that is released,
    /// or held by a dead process of this host, at once; waits up to the timeout to see whether a lease that has
    /// missed a renewal is renewed, and takes it over if not. A live lease is <see cref="RunLockedException"/>.
    /// <paramref name="waiting"/> hears of a wait before it starts.
    /// </summary>
    public static RunLease Acquire(string path, LeaseOptions options, Action<string>? waiting = null, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        byte[]? watched = null;
        TimeSpan watchedSince = TimeSpan.Zero;
        TimeSpan giveUp = TimeSpan.FromTicks((options.Timeout.Ticks * 3) + TimeSpan.FromSeconds(10).Ticks);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (TryCreate(path, options, out RunLease? created))
            {
                return created!;
            }

            byte[]? bytes = ReadBytes(path);
            if (bytes is null)
            {
                continue;
            }

            LeaseRecord? record = LeaseRecord.Parse(bytes);
            TimeSpan timeout = TimeoutOf(record, options);
            bool free = record is not null && (record.Released || IsDeadHere(record, options));
            if (!free)
            {
                if (watched is not null && !bytes.AsSpan().SequenceEqual(watched))
                {
                    // Renewed, released into other hands, or taken over while we watched: someone lives.
                    throw Locked(path, record);
                }

                if (watched is null)
                {
                    if (record is not null && !MissedRenewal(record, timeout))
                    {
                        throw Locked(path, record);
                    }

                    watched = bytes;
                    watchedSince = clock.Elapsed;
                    waiting?.Invoke(string.Format(
                        CultureInfo.InvariantCulture,
                        "The lease '{0}' {1} has missed its renewal: waiting up to {2:0.#} s to see whether it is renewed before taking it over.",
                        path,
                        record is null ? "holds no readable holder" : "of " + record.Holder,
                        timeout.TotalSeconds));
                }

                free = clock.Elapsed - watchedSince >= timeout;
            }

            if (free)
            {
                if (TryTakeOver(path, bytes, record, options, out RunLease? taken))
                {
                    return taken!;
                }

                watched = null;
            }

            if (clock.Elapsed > giveUp)
            {
                throw Locked(path, LeaseRecord.Parse(ReadBytes(path) ?? Array.Empty<byte>()));
            }

            TimeSpan poll = TimeSpan.FromTicks(Math.Min(Math.Max(options.RenewInterval.Ticks / 2, s_shortestPoll.Ticks), s_longestPoll.Ticks));
            if (cancellationToken.WaitHandle.WaitOne(poll))
            {
                cancellationToken.ThrowIfCancellationRequested();
            }
        }
    }

    /// <summary>
    /// Whether a process holds the lease at <paramref name="path"/> now, and who, without taking or changing
    /// anything: a lease of this host is live while its process lives; another host's while it was renewed
    /// within the timeout (by this machine's clock, so clocks must agree to within a few seconds).
    /// </summary>
    public static (bool Live, LockHolder? Holder) Probe(string path, LeaseOptions options)
    {
        LeaseRecord? record = null;
        for (int attempt = 0; attempt < 3 && record is null; attempt++)
        {
            byte[]? bytes = ReadBytes(path);
            if (bytes is null)
            {
                return (false, null);
            }

            // An empty or torn file is a writer's moment; look again before calling it nobody's.
            record = LeaseRecord.Parse(bytes);
            if (record is null)
            {
                Thread.Sleep(20);
            }
        }

        if (record is null || record.Released)
        {
            return (false, record?.Holder);
        }

        bool live = record.Host == options.Host
            ? IsAlive(record, options)
            : DateTimeOffset.UtcNow - record.Renewed <= TimeoutOf(record, options);
        return (live, record.Holder);
    }

    private static bool TryCreate(string path, LeaseOptions options, out RunLease? lease)
    {
        lease = null;
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.None);
        }
        catch (IOException e) when (IoErrors.IsAlreadyExists(e))
        {
            return false;
        }

        try
        {
            lease = Hold(path, options, stream, NewRecord(options));
            NativeFile.FsyncDirectory(System.IO.Path.GetDirectoryName(path)!);
            return true;
        }
        catch
        {
            stream.Dispose();
            TryDelete(path);
            throw;
        }
    }

    // One taker of a stale lease wins: it creates the claim named after the stale token (O_EXCL), checks that
    // the lease still says what it saw, and renames its own over it. A slower taker either fails to create
    // the claim or, once the winner has removed it, finds the lease changed.
    private static bool TryTakeOver(string path, byte[] seen, LeaseRecord? record, LeaseOptions options, out RunLease? lease)
    {
        lease = null;
        string claim = path + ".takeover-" + ClaimKey(seen, record);
        try
        {
            new FileStream(claim, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1).Dispose();
        }
        catch (IOException e) when (IoErrors.IsAlreadyExists(e))
        {
            // Another process is taking it over. A claim older than the timeout was left by a taker that died.
            try
            {
                if (DateTime.UtcNow - File.GetLastWriteTimeUtc(claim) > TimeoutOf(record, options))
                {
                    TryDelete(claim);
                }
            }
            catch (IOException)
            {
            }

            return false;
        }

        try
        {
            byte[]? now = ReadBytes(path);
            if (now is null || !now.AsSpan().SequenceEqual(seen))
            {
                return false;
            }

            LeaseRecord mine = NewRecord(options);
            string temp = path + ".tmp-" + options.ProcessId.ToString(CultureInfo.InvariantCulture);
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1))
            {
                byte[] bytes = mine.Serialize();
                stream.Write(bytes, 0, bytes.Length);
                NativeFile.Fsync(stream.SafeFileHandle, temp);
            }

            NativeFile.ReplaceFile(temp, path);
            NativeFile.FsyncDirectory(System.IO.Path.GetDirectoryName(path)!);
            var handle = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.None);
            try
            {
                byte[] expected = mine.Serialize();
                byte[] actual = ReadAll(handle);
                if (!actual.AsSpan().SequenceEqual(expected))
                {
                    handle.Dispose();
                    return false;
                }

                lease = new RunLease(path, options, handle, mine, expected, TimeSpan.Zero);
                return true;
            }
            catch
            {
                handle.Dispose();
                throw;
            }
        }
        finally
        {
            TryDelete(claim);
        }
    }

    private static RunLease Hold(string path, LeaseOptions options, FileStream stream, LeaseRecord record)
    {
        byte[] bytes = record.Serialize();
        stream.Write(bytes, 0, bytes.Length);
        NativeFile.Fsync(stream.SafeFileHandle, path);
        return new RunLease(path, options, stream, record, bytes, TimeSpan.Zero);
    }

    private static LeaseRecord NewRecord(LeaseOptions options)
    {
        byte[] token = new byte[16];
        using (var random = RandomNumberGenerator.Create())
        {
            random.GetBytes(token);
        }

        DateTimeOffset now = DateTimeOffset.UtcNow;
        return new LeaseRecord
        {
            ProcessId = options.ProcessId,
            Host = options.Host,
            Since = now,
            Token = Hex(token),
            ProcessStart = options.ProcessStart,
            Renewed = now,
            Renewals = 0,
            TimeoutSeconds = options.Timeout.TotalSeconds,
        };
    }

    // The holder's timeout when it wrote one, or ours, whichever is longer: a node with a longer setting
    // renews less often, and must not be taken for dead by one with a shorter.
    private static TimeSpan TimeoutOf(LeaseRecord? record, LeaseOptions options) =>
        record is not null && record.TimeoutSeconds > options.Timeout.TotalSeconds ? TimeSpan.FromSeconds(record.TimeoutSeconds) : options.Timeout;

    private static bool MissedRenewal(LeaseRecord record, TimeSpan timeout) =>
        DateTimeOffset.UtcNow - record.Renewed > TimeSpan.FromTicks(timeout.Ticks / 2);

    private static bool IsDeadHere(LeaseRecord record, LeaseOptions options) =>
        record.Host == options.Host && !IsAlive(record, options);

    private static bool IsAlive(LeaseRecord record, LeaseOptions options)
    {
        if (record.ProcessId == options.ProcessId)
        {
            return record.ProcessStart == DateTime.MinValue || Near(record.ProcessStart, options.ProcessStart);
        }

        try
        {
            using Process process = Process.GetProcessById(record.ProcessId);
            DateTime start = LeaseOptions.StartOf(process);
            return record.ProcessStart == DateTime.MinValue || start == DateTime.MinValue || Near(record.ProcessStart, start);
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    // Start times read twice can differ by the clock's tick; a reused process id starts much later.
    private static bool Near(DateTime a, DateTime b) => Math.Abs((a - b).TotalSeconds) < 1;

    private static string ClaimKey(byte[] seen, LeaseRecord? record)
    {
        if (record?.Token is string token && token.Length == 32 && token.All(c => (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
        {
            return token;
        }

        using SHA256 sha = SHA256.Create();
        return Hex(sha.ComputeHash(seen)).Substring(0, 32);
    }

    private static string Hex(byte[] bytes) => string.Concat(bytes.Select(b => b.ToString("x2", CultureInfo.InvariantCulture)));

    private static RunLockedException Locked(string path, LeaseRecord? record) => new(path, record?.Holder);

    /// <summary>The bytes of the file at <paramref name="path"/>, or null when there is none. Opened read-only.</summary>
    internal static byte[]? ReadBytes(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.None);
            return ReadAll(stream);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
    }

    private static byte[] ReadAll(FileStream stream)
    {
        stream.Seek(0, SeekOrigin.Begin);
        var bytes = new byte[4096];
        int filled = 0;
        int read;
        while ((read = stream.Read(bytes, filled, bytes.Length - filled)) > 0)
        {
            filled += read;
            if (filled == bytes.Length)
            {
                Array.Resize(ref bytes, bytes.Length * 2);
            }
        }

        Array.Resize(ref bytes, filled);
        return bytes;
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }
}
