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
public sealed partial class RunLease : IDisposable
{
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
