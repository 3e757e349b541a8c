using System;
using System.ComponentModel;
using System.IO;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Checkpoint.IO;

/// <summary>
/// The few file-system calls that .NET does not make durable on its own: fsync of a file and of a directory,
/// and a rename that replaces its target atomically. A failed fsync throws: the caller must treat it as fatal
/// (PostgreSQL's lesson: after a failed fsync the kernel may have dropped the dirty pages, so a retry can lie).
/// </summary>
internal static class NativeFile
{
    private static readonly bool s_isWindows = RuntimeInformation.IsOSPlatform(OSPlatform.Windows);
    private static readonly bool s_isMac = RuntimeInformation.IsOSPlatform(OSPlatform.OSX);

    /// <summary>Forces the file's data to the storage device.</summary>
    public static void Fsync(SafeFileHandle handle, string pathForErrors)
    {
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            if (s_isWindows)
            {
                if (!Windows.FlushFileBuffers(handle))
                {
                    throw Failure("FlushFileBuffers", pathForErrors, Marshal.GetLastWin32Error());
                }

                return;
            }

            int fd = (int)handle.DangerousGetHandle();
            int result;
            do
            {
                result = s_isMac ? Mac.fsync(fd) : Linux.fsync(fd);
            }
            while (result != 0 && Marshal.GetLastWin32Error() == Errno.EINTR);

            if (result != 0)
            {
                throw Failure("fsync", pathForErrors, Marshal.GetLastWin32Error());
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
            if (!Windows.MoveFileEx(source, destination, MoveFileReplaceExisting | MoveFileWriteThrough))
            {
                throw Failure("MoveFileEx", destination, Marshal.GetLastWin32Error());
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
        [DllImport("libSystem.dylib", SetLastError = true)]
        public static extern int fsync(int fd);

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
