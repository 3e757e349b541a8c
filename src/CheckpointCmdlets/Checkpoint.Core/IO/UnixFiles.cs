using System;
using System.IO;
using System.Runtime.InteropServices;

namespace Checkpoint.IO;

/// <summary>
/// The Unix permission calls that .NET Standard lacks: who owns a file and its mode, making a file that only
/// its owner may read from the first byte (no window in which it is readable by others), and chmod. Linux
/// only, as <see cref="FileIdentity"/>; elsewhere <see cref="IsSupported"/> is false.
/// </summary>
internal static class UnixFiles
{
    /// <summary>rwx for the owner alone, for a folder.</summary>
    public const int OwnerOnlyDirectory = 0x1C0;

    private const int OwnerReadWrite = 0x180;
    private const int RegularFileType = 0x8000;
    private const int FileTypeMask = 0xF000;
    private const int WriteOnly = 0x1;
    private const int Create = 0x40;
    private const int Exclusive = 0x80;
    private const int ExistsError = 17;

    /// <summary>True where these calls work.</summary>
    public static bool IsSupported => FileIdentity.IsSupported;

    /// <summary>The user id of this process.</summary>
    public static uint CurrentUser => Native.getuid();

    /// <summary>The mode and owner of the file at <paramref name="path"/>, or null when it does not exist.</summary>
    public static Status? StatusOf(string path) =>
        FileIdentity.Of(path) is FileIdentity.Identity id ? new Status(id.Mode, id.Owner) : null;

    /// <summary>Sets the permission bits of <paramref name="path"/>.</summary>
    public static void ChangeMode(string path, int mode)
    {
        if (Native.chmod(NativeFile.Utf8Z(path), mode) != 0)
        {
            throw new IOException($"chmod of '{path}' failed (error {Marshal.GetLastWin32Error()}).");
        }
    }

    /// <summary>
    /// Creates <paramref name="path"/> with mode 0600, exclusively, holding <paramref name="content"/>, fsynced.
    /// Does nothing when the file exists already (another process made it first).
    /// </summary>
    public static void CreateOwnerOnly(string path, byte[] content)
    {
        int fd = Native.open(NativeFile.Utf8Z(path), WriteOnly | Create | Exclusive, OwnerReadWrite);
        if (fd < 0)
        {
            int error = Marshal.GetLastWin32Error();
            if (error == ExistsError)
            {
                return;
            }

            throw new IOException($"Creating '{path}' failed (error {error}).");
        }

        try
        {
            unsafe
            {
                fixed (byte* bytes = content)
                {
                    long written = 0;
                    while (written < content.Length)
                    {
                        long n = (long)Native.write(fd, bytes + written, (UIntPtr)(ulong)(content.Length - written));
                        if (n <= 0)
                        {
                            throw new IOException($"Writing '{path}' failed (error {Marshal.GetLastWin32Error()}).");
                        }

                        written += n;
                    }
                }
            }

            if (Native.fsync(fd) != 0)
            {
                throw new IOException($"fsync of '{path}' failed (error {Marshal.GetLastWin32Error()}).");
            }
        }
        finally
        {
            _ = Native.close(fd);
        }
    }

    /// <summary>A file's mode and owner.</summary>
    internal readonly struct Status
    {
        public Status(uint mode, uint owner)
        {
            Mode = mode;
            Owner = owner;
        }

        /// <summary>The type and permission bits.</summary>
        public uint Mode { get; }

        /// <summary>The owner's user id.</summary>
        public uint Owner { get; }

        /// <summary>True for a regular file.</summary>
        public bool IsRegularFile => (Mode & FileTypeMask) == RegularFileType;
    }

    private static unsafe class Native
    {
        [DllImport("libc.so.6", SetLastError = true)]
        public static extern uint getuid();

        [DllImport("libc.so.6", SetLastError = true)]
        public static extern int chmod(byte[] path, int mode);

        [DllImport("libc.so.6", SetLastError = true)]
        public static extern int open(byte[] path, int flags, int mode);

        [DllImport("libc.so.6", SetLastError = true)]
        public static extern IntPtr write(int fd, byte* buffer, UIntPtr count);

        [DllImport("libc.so.6", SetLastError = true)]
        public static extern int fsync(int fd);

        [DllImport("libc.so.6", SetLastError = true)]
        public static extern int close(int fd);
    }
}
