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
/// The lease that makes one process the only writer of a run part on a shared file system, where an OS lock
/// may be seen by one node alone or not work at all. The lease file is created exclusively (O_EXCL), names its
/// holder and a random token, and is renewed in place every third of the timeout by a thread of its own. A
/// lease not renewed for the timeout is stale and may be taken over: one taker wins, by exclusively creating a
/// claim named after the stale token, then renaming its own lease over the old one. The holder fences itself:
/// <see cref="Verify"/>, called before every write, fails once the file no longer holds its token, or once it
/// has gone two thirds of the timeout without a renewal (a paused or partitioned process), so that it has
/// stopped writing before anyone who waited out the timeout takes over.
/// </summary>
public sealed class RunLease : IDisposable
{
    private static readonly TimeSpan s_longestPoll = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan s_shortestPoll = TimeSpan.FromMilliseconds(50);

    private readonly object _gate = new();
    private readonly LeaseOptions _options;
    private readonly FileStream _handle;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly ManualResetEvent _stopRenewing = new(false);
    private readonly Thread? _renewer;

    // The lease file this holder created or renamed into place; null where the platform cannot tell.
    private readonly FileIdentity.Identity? _identity;
    private readonly byte[] _name;
    private LeaseRecord _record;
    private byte[] _written;
    private TimeSpan _lastRenewal;
    private string? _lost;
    private bool _disposed;

    private RunLease(string path, LeaseOptions options, FileStream handle, LeaseRecord record, byte[] written, TimeSpan renewedAt)
    {
        Path = path;
        _options = options;
        _handle = handle;
        _record = record;
        _written = written;
        _lastRenewal = renewedAt;
        _identity = FileIdentity.Of(handle.SafeFileHandle);
        _name = FileIdentity.NameOf(path);
        if (options.Renew)
        {
            _renewer = new Thread(RenewLoop) { IsBackground = true, Name = "Checkpoint lease " + System.IO.Path.GetFileName(path) };
            _renewer.Start();
        }
    }

    /// <summary>The lease file.</summary>
    public string Path { get; }

    /// <summary>This holder, as the lease file names it.</summary>
    public LockHolder Holder => _record.Holder;

    /// <summary>Why the lease was lost, or null while it holds.</summary>
    public string? LostReason
    {
        get
        {
            lock (_gate)
            {
                return _lost;
            }
        }
    }

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

    /// <summary>
    /// Throws <see cref="ErrorIds.LeaseLost"/> unless this process still holds the lease: the file holds its
    /// token, and it was renewed within two thirds of the timeout. Once lost, always lost.
    /// </summary>
    public void Verify()
    {
        lock (_gate)
        {
            CheckHeld(quick: true);
            if (_lost is not null)
            {
                throw LostException();
            }
        }
    }

    /// <summary>Renews the lease now; the renewal thread does this every third of the timeout.</summary>
    public void Renew()
    {
        lock (_gate)
        {
            CheckHeld();
            if (_lost is not null || _disposed)
            {
                return;
            }

            TimeSpan started = _clock.Elapsed;
            LeaseRecord next = _record.With(DateTimeOffset.UtcNow, _record.Renewals + 1, released: false);
            try
            {
                _written = WriteInPlace(next);
                _record = next;
                _lastRenewal = started;
            }
            catch (IOException e)
            {
                // The file no longer says what it did: a later Verify finds it so and stops the writer.
                Lose("renewing it failed: " + e.Message);
            }
        }
    }

    /// <summary>Deletes the lease file while holding it (a run's removal); the lease is then released.</summary>
    public void DeleteFile()
    {
        lock (_gate)
        {
            Verify();
            File.Delete(Path);
            _lost = "the lease file was removed with its run";
        }
    }

    /// <summary>Stops renewing and marks the lease released, when it is still this process's.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
        }

        _stopRenewing.Set();
        if (_renewer is not null && Thread.CurrentThread != _renewer)
        {
            _renewer.Join();
        }

        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            if (_lost is null && Matches(ReadBytes(Path)))
            {
                try
                {
                    WriteInPlace(_record.With(DateTimeOffset.UtcNow, _record.Renewals, released: true));
                }
                catch (IOException)
                {
                    // Left as it was: it goes stale and is taken over after the timeout.
                }
            }

            _handle.Dispose();
            _stopRenewing.Dispose();
        }
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

    // Under _gate: the lease is lost once the file no longer holds what this process last wrote, or once the
    // last renewal is older than the self-fence. Only this holder writes its lease file in place, and a takeover
    // or a removal replaces or deletes it, so where the platform can tell, the file at the path being this
    // holder's file is the file holding its token: a quick check (before each write) asks only that, and the
    // renewal reads the bytes.
    private void CheckHeld(bool quick = false)
    {
        if (_lost is not null || _disposed)
        {
            return;
        }

        TimeSpan since = _clock.Elapsed - _lastRenewal;
        if (since > _options.SelfFence)
        {
            Lose(string.Format(CultureInfo.InvariantCulture, "it was not renewed for {0:0.#} s (the process was paused or could not reach the file), so another process may have taken it over", since.TotalSeconds));
            return;
        }

        if (quick && _identity is FileIdentity.Identity mine && FileIdentity.OfName(_name) is FileIdentity.Identity named && named.SameFile(mine))
        {
            return;
        }

        byte[]? now;
        try
        {
            now = ReadBytes(Path);
        }
        catch (IOException e)
        {
            Lose("it cannot be read: " + e.Message);
            return;
        }

        if (now is null)
        {
            Lose("the lease file was removed");
        }
        else if (!Matches(now))
        {
            LeaseRecord? other = LeaseRecord.Parse(now);
            Lose(other is null ? "the lease file was changed by another process" : "it was taken over by " + other.Holder);
        }
    }

    private bool Matches(byte[]? bytes) => bytes is not null && bytes.AsSpan().SequenceEqual(_written);

    private void Lose(string reason) => _lost ??= reason;

    private CheckpointException LostException() => new(
        ErrorIds.LeaseLost,
        $"This process no longer holds the lease '{Path}': {_lost}. It writes nothing more; the samples in flight stay pending. Resume the run once no other process writes it.")
    {
        Target = Path,
    };

    private byte[] WriteInPlace(LeaseRecord record)
    {
        byte[] bytes = record.Serialize();
        _handle.Seek(0, SeekOrigin.Begin);
        _handle.Write(bytes, 0, bytes.Length);
        _handle.SetLength(bytes.Length);
        NativeFile.Fsync(_handle.SafeFileHandle, Path);
        return bytes;
    }

    private void RenewLoop()
    {
        while (!_stopRenewing.WaitOne(_options.RenewInterval))
        {
            Renew();
        }
    }
}
