using System;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Checkpoint.IO;

/// <summary>
/// Which file a path or an open handle names (device and inode) and how long it is, from the operating system
/// itself: .NET offers neither inode numbers nor a length it promises not to cache. Only Linux is read
/// (x86_64 and arm64 share the first fields of <c>struct stat</c>); elsewhere <see cref="IsSupported"/> is false
/// and callers skip the checks that need it. Windows needs none of them: a file open without
/// <c>FileShare.Delete</c> cannot be deleted or replaced there, and its share modes are enforced.
/// </summary>
internal static class FileIdentity
{
    // struct stat on Linux x86_64 and arm64 (generic): st_dev at 0, st_ino at 8, st_size at 48; st_mode and
    // st_uid at 24 and 28 on x86_64, at 16 and 24 on arm64.
    private const int StatBufferSize = 256;
    private const int DeviceOffset = 0;
    private const int InodeOffset = 8;
    private const int SizeOffset = 48;
    private static readonly int s_modeOffset = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 24 : 16;
    private static readonly int s_ownerOffset = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 28 : 24;

    private static readonly bool s_supported =
        RuntimeInformation.IsOSPlatform(OSPlatform.Linux)
        && (RuntimeInformation.ProcessArchitecture == Architecture.X64 || RuntimeInformation.ProcessArchitecture == Architecture.Arm64);

    // glibc before 2.33 exports only __xstat/__fxstat, whose version argument is 1 on x86_64 and 0 on arm64.
    private static readonly int s_statVersion = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 1 : 0;
    private static bool s_useVersioned;

    /// <summary>True where <see cref="Of(string)"/> and <see cref="Of(SafeFileHandle)"/> can answer.</summary>
    public static bool IsSupported => s_supported;

    /// <summary>The identity of the file at <paramref name="path"/>; null when it does not exist or this platform cannot tell.</summary>
    public static Identity? Of(string path) => s_supported ? OfName(NativeFile.Utf8Z(path)) : null;

    /// <summary>
    /// The identity of the file named by <paramref name="name"/>, a path as NUL-terminated UTF-8 (see
    /// <see cref="NameOf"/>), for a check made before every write without converting the path each time.
    /// </summary>
    public static Identity? OfName(byte[] name)
    {
        if (!s_supported)
        {
            return null;
        }

        unsafe
        {
            byte* buffer = stackalloc byte[StatBufferSize];
            if (!s_useVersioned)
            {
                try
                {
                    return Native.stat(name, buffer) == 0 ? Read(buffer) : null;
                }
                catch (EntryPointNotFoundException)
                {
                    s_useVersioned = true;
                }
            }

            return Native.__xstat(s_statVersion, name, buffer) == 0 ? Read(buffer) : null;
        }
    }

    /// <summary>A path as <see cref="OfName"/> takes it.</summary>
    public static byte[] NameOf(string path) => NativeFile.Utf8Z(path);

    /// <summary>The identity of the open file <paramref name="handle"/>; null when this platform cannot tell.</summary>
    public static Identity? Of(SafeFileHandle handle)
    {
        if (!s_supported)
        {
            return null;
        }

        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            int fd = (int)handle.DangerousGetHandle();
            unsafe
            {
                byte* buffer = stackalloc byte[StatBufferSize];
                if (!s_useVersioned)
                {
                    try
                    {
                        return Native.fstat(fd, buffer) == 0 ? Read(buffer) : null;
                    }
                    catch (EntryPointNotFoundException)
                    {
                        s_useVersioned = true;
                    }
                }

                return Native.__fxstat(s_statVersion, fd, buffer) == 0 ? Read(buffer) : null;
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

    private static unsafe Identity Read(byte* buffer) => new(
        *(ulong*)(buffer + DeviceOffset),
        *(ulong*)(buffer + InodeOffset),
        *(long*)(buffer + SizeOffset),
        *(uint*)(buffer + s_modeOffset),
        *(uint*)(buffer + s_ownerOffset));

    /// <summary>A file's device and inode, and its length, mode and owner when it was asked.</summary>
    internal readonly struct Identity
    {
        public Identity(ulong device, ulong inode, long length, uint mode, uint owner)
        {
            Device = device;
            Inode = inode;
            Length = length;
            Mode = mode;
            Owner = owner;
        }

        /// <summary>The file's type and permission bits (<c>st_mode</c>).</summary>
        public uint Mode { get; }

        /// <summary>The owner's user id.</summary>
        public uint Owner { get; }

        public ulong Device { get; }

        public ulong Inode { get; }

        public long Length { get; }

        /// <summary>True when both name the same file (whatever their lengths).</summary>
        public bool SameFile(Identity other) => Device == other.Device && Inode == other.Inode;
    }

    private static unsafe class Native
    {
        [DllImport("libc.so.6", SetLastError = true)]
        public static extern int stat(byte[] path, byte* buffer);

        [DllImport("libc.so.6", SetLastError = true)]
        public static extern int fstat(int fd, byte* buffer);

        [DllImport("libc.so.6", SetLastError = true)]
        public static extern int __xstat(int version, byte[] path, byte* buffer);

        [DllImport("libc.so.6", SetLastError = true)]
        public static extern int __fxstat(int version, int fd, byte* buffer);
    }
}
