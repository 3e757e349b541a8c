using System;
using System.ComponentModel;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading;
using Microsoft.Win32.SafeHandles;

namespace Checkpoint.IO;

/// <summary>
/// The few file-system calls that .NET does not make durable on its own: fsync of a file and of a directory,
/// and a rename that replaces its target atomically. A failed fsync throws: the caller must treat it as fatal
/// (PostgreSQL's lesson: after a failed fsync the kernel may have dropped the dirty pages, so a retry can lie).
/// Which call each platform makes is decided by the internal functions below, so that the decisions for
/// Windows and macOS are tested on Linux too.
/// </summary>
internal static class NativeFile
{
    /// <summary>The operating systems whose calls differ here; Linux stands for any other Unix.</summary>
    internal enum Platform
    {
        Linux,
        MacOS,
        Windows,
    }

    /// <summary>The call that forces a file's data to the storage device.</summary>
    internal enum FileSync
    {
        /// <summary>fsync(2).</summary>
        Fsync,

        /// <summary>fcntl(F_FULLFSYNC), falling back to fsync where the file system does not support it.</summary>
        FullFsync,

        /// <summary>FlushFileBuffers.</summary>
        FlushFileBuffers,
    }

    /// <summary>Tries of MoveFileEx after the first one fails with a sharing error.</summary>
    internal const int ReplaceRetries = 7;

    private static readonly Platform s_platform =
        RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? Platform.Windows
        : RuntimeInformation.IsOSPlatform(OSPlatform.OSX) ? Platform.MacOS
        : Platform.Linux;

    private static readonly bool s_isWindows = s_platform == Platform.Windows;
    private static readonly bool s_isMac = s_platform == Platform.MacOS;

    /// <summary>Forces the file's data to the storage device.</summary>
    public static void Fsync(SafeFileHandle handle, string pathForErrors)
    {
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            FileSync call = FileSyncFor(s_platform);
            if (call == FileSync.FlushFileBuffers)
            {
                if (!Windows.FlushFileBuffers(handle))
                {
                    throw Failure("FlushFileBuffers", pathForErrors, Marshal.GetLastWin32Error());
                }

                return;
            }

            int fd = (int)handle.DangerousGetHandle();
            (string Call, int Errno)? failed = SyncUnix(
                call,
                () => Mac.fcntl(fd, Mac.F_FULLFSYNC) == 0 ? 0 : Marshal.GetLastWin32Error(),
                () => (s_isMac ? Mac.fsync(fd) : Linux.fsync(fd)) == 0 ? 0 : Marshal.GetLastWin32Error());
            if (failed is (string name, int errno))
            {
                throw Failure(name, pathForErrors, errno);
            }
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    /// <summary>
    /// The call that makes a file's data durable on <paramref name="platform"/>. On macOS fsync only hands the
    /// data to the drive, whose write cache may lose it at a power cut; F_FULLFSYNC also flushes that cache.
    /// </summary>
    internal static FileSync FileSyncFor(Platform platform) => platform switch
    {
        Platform.Windows => FileSync.FlushFileBuffers,
        Platform.MacOS => FileSync.FullFsync,
        _ => FileSync.Fsync,
    };

    /// <summary>
    /// Makes <paramref name="sync"/> (<see cref="FileSync.Fsync"/> or <see cref="FileSync.FullFsync"/>) through
    /// <paramref name="fullFsync"/> and <paramref name="fsync"/>, each returning 0 or its errno and called again
    /// when interrupted. F_FULLFSYNC that the file system does not support falls back to fsync; any other
    /// failure of either is returned as the call's name and errno, and is fatal. Null when the data is durable.
    /// </summary>
    internal static (string Call, int Errno)? SyncUnix(FileSync sync, Func<int> fullFsync, Func<int> fsync)
    {
        if (sync == FileSync.FullFsync)
        {
            int error = Uninterrupted(fullFsync);
            if (error == 0)
            {
                return null;
            }

            if (!FullFsyncUnsupported(error))
            {
                return ("fcntl(F_FULLFSYNC)", error);
            }
        }

        int fsyncError = Uninterrupted(fsync);
        return fsyncError == 0 ? null : ("fsync", fsyncError);
    }

    /// <summary>
    /// True when F_FULLFSYNC failed because the file system does not support it (SMB and some FUSE and network
    /// file systems answer ENOTSUP or EINVAL); fsync is then the most there is. An I/O error is not this.
    /// </summary>
    internal static bool FullFsyncUnsupported(int errno) => errno is MacErrno.ENOTSUP or Errno.EINVAL;

    /// <summary>
    /// The wait before MoveFileEx is tried again after its <paramref name="failures"/>-th failure with the
    /// Windows error <paramref name="error"/>, or null to give up. Only another process's brief open of either
    /// file is waited out: a virus scanner or indexer, or a reader that does not share delete access (File.
    /// ReadAllBytes, an older release), makes the replace fail with ERROR_ACCESS_DENIED or
    /// ERROR_SHARING_VIOLATION, depending on which file it holds and how. ACCESS_DENIED is also what lasting
    /// permissions give; those fail as before, only after the waits (under a second in all). Nothing else is
    /// waited out.
    /// </summary>
    internal static TimeSpan? ReplaceRetryDelay(int error, int failures)
    {
        const int ErrorAccessDenied = 5;
        const int ErrorSharingViolation = 32;
        if (error is not (ErrorAccessDenied or ErrorSharingViolation) || failures > ReplaceRetries)
        {
            return null;
        }

        return TimeSpan.FromMilliseconds(Math.Min(10 << (failures - 1), 250));
    }

    /// <summary>
    /// Calls <paramref name="tryReplace"/> (0 on success, else the Windows error) until it succeeds or
    /// <see cref="ReplaceRetryDelay"/> gives up, waiting through <paramref name="sleep"/>. Returns 0 or the last error.
    /// </summary>
    internal static int WithReplaceRetries(Func<int> tryReplace, Action<TimeSpan> sleep)
    {
        for (int failures = 1; ; failures++)
        {
            int error = tryReplace();
            if (error == 0 || ReplaceRetryDelay(error, failures) is not TimeSpan wait)
            {
                return error;
            }

            sleep(wait);
        }
    }

    private static int Uninterrupted(Func<int> call)
    {
        int error;
        while ((error = call()) == Errno.EINTR)
        {
        }

        return error;
    }

    /// <summary>
    /// Makes a directory entry change (create, rename) durable. Windows has no such call and needs none:
    /// MoveFileEx with MOVEFILE_WRITE_THROUGH covers it.
    /// </summary>
    public static void FsyncDirectory(string directory)
    {
        if (s_isWindows)
        {
            return;
        }

        byte[] name = Utf8Z(directory);
        int fd = s_isMac ? Mac.open(name, 0) : Linux.open(name, 0);
        if (fd < 0)
        {
            throw Failure("open", directory, Marshal.GetLastWin32Error());
        }

        try
        {
            int result = s_isMac ? Mac.fsync(fd) : Linux.fsync(fd);
            // Some file systems refuse fsync on a directory with EINVAL; there is nothing more to do there.
            if (result != 0 && Marshal.GetLastWin32Error() is int errno && errno != Errno.EINVAL)
            {
                throw Failure("fsync", directory, errno);
            }
        }
        finally
        {
            _ = s_isMac ? Mac.close(fd) : Linux.close(fd);
        }
    }

    /// <summary>Renames <paramref name="source"/> over <paramref name="destination"/> in one atomic step.</summary>
    public static void ReplaceFile(string source, string destination)
    {
        if (s_isWindows)
        {
            const int MoveFileReplaceExisting = 0x1;
            const int MoveFileWriteThrough = 0x8;
            int error = WithReplaceRetries(
                () => Windows.MoveFileEx(source, destination, MoveFileReplaceExisting | MoveFileWriteThrough) ? 0 : Marshal.GetLastWin32Error(),
                Thread.Sleep);
            if (error != 0)
            {
                throw Failure("MoveFileEx", destination, error);
            }

            return;
        }

        int result = s_isMac ? Mac.rename(Utf8Z(source), Utf8Z(destination)) : Linux.rename(Utf8Z(source), Utf8Z(destination));
        if (result != 0)
        {
            throw Failure("rename", destination, Marshal.GetLastWin32Error());
        }
    }

    // netstandard2.0 has no UTF-8 string marshalling; pass NUL-terminated UTF-8 bytes.
    internal static byte[] Utf8Z(string path)
    {
        byte[] bytes = new byte[System.Text.Encoding.UTF8.GetByteCount(path) + 1];
        System.Text.Encoding.UTF8.GetBytes(path, 0, path.Length, bytes, 0);
        return bytes;
    }

    private static IOException Failure(string call, string path, int error)
    {
        string reason = new Win32Exception(error).Message;
        return new IOException($"{call} failed on '{path}': {reason} (error {error}).", error);
    }

    private static class Errno
    {
        public const int EINTR = 4;
        public const int EINVAL = 22;
    }

    private static class MacErrno
    {
        public const int ENOTSUP = 45;
    }

    private static class Linux
    {
        [DllImport("libc.so.6", SetLastError = true)]
        public static extern int fsync(int fd);

        [DllImport("libc.so.6", SetLastError = true)]
        public static extern int open(byte[] path, int flags);

        [DllImport("libc.so.6", SetLastError = true)]
        public static extern int close(int fd);

        [DllImport("libc.so.6", SetLastError = true)]
        public static extern int rename(byte[] source, byte[] destination);
    }

    private static class Mac
    {
        public const int F_FULLFSYNC = 51;

        [DllImport("libSystem.dylib", SetLastError = true)]
        public static extern int fsync(int fd);

        // fcntl is variadic; F_FULLFSYNC reads no third argument, so it is declared without one (Apple's arm64
        // ABI passes variadic arguments on the stack, where a declared third one would not go).
        [DllImport("libSystem.dylib", SetLastError = true)]
        public static extern int fcntl(int fd, int cmd);

        [DllImport("libSystem.dylib", SetLastError = true)]
        public static extern int open(byte[] path, int flags);

        [DllImport("libSystem.dylib", SetLastError = true)]
        public static extern int close(int fd);

        [DllImport("libSystem.dylib", SetLastError = true)]
        public static extern int rename(byte[] source, byte[] destination);
    }

    private static class Windows
    {
        [DllImport("kernel32.dll", SetLastError = true)]
        [return: MarshalAs(UnmanagedType.Bool)]
        public static extern bool FlushFileBuffers(SafeFileHandle handle);

        [DllImport("kernel32.dll", SetLastError = true, CharSet = CharSet.Unicode, EntryPoint = "MoveFileExW")]
        [return: MarshalAs(UnmanagedType.Bool)]
        public static extern bool MoveFileEx(string existingFileName, string newFileName, int flags);
    }
}
