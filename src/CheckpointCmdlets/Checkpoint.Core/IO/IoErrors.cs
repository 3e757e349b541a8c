using System.IO;
using System.Runtime.InteropServices;

namespace Checkpoint.IO;

/// <summary>
/// What an <see cref="IOException"/> says, by its error code rather than its message: .NET gives the errno as
/// the HResult on Unix and the Win32 error as an HRESULT on Windows, and has no exception type for either case.
/// </summary>
internal static class IoErrors
{
    private const int WindowsSharingViolation = unchecked((int)0x80070020);
    private const int WindowsLockViolation = unchecked((int)0x80070021);
    private const int WindowsFileExists = unchecked((int)0x80070050);
    private const int WindowsAlreadyExists = unchecked((int)0x800700B7);
    private const int UnixExists = 17;
    private const int LinuxWouldBlock = 11;
    private const int MacWouldBlock = 35;

    private static readonly bool s_isWindows = RuntimeInformation.IsOSPlatform(OSPlatform.Windows);
    private static readonly bool s_isMac = RuntimeInformation.IsOSPlatform(OSPlatform.OSX);

    /// <summary>True when another handle's share mode or lock refused the open (and nothing else went wrong).</summary>
    public static bool IsSharingViolation(IOException e) => IsSharingViolation(e.HResult, s_isWindows, s_isMac);

    /// <summary>True when an exclusive create found the file already there.</summary>
    public static bool IsAlreadyExists(IOException e) => IsAlreadyExists(e.HResult, s_isWindows);

    /// <summary>The platform rule behind <see cref="IsSharingViolation(IOException)"/>, apart for tests.</summary>
    internal static bool IsSharingViolation(int hresult, bool windows, bool mac) =>
        windows ? hresult is WindowsSharingViolation or WindowsLockViolation
        : hresult == (mac ? MacWouldBlock : LinuxWouldBlock);

    /// <summary>The platform rule behind <see cref="IsAlreadyExists(IOException)"/>, apart for tests.</summary>
    internal static bool IsAlreadyExists(int hresult, bool windows) =>
        windows ? hresult is WindowsFileExists or WindowsAlreadyExists : hresult == UnixExists;
}
