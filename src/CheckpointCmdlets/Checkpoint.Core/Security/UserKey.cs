using System;
using System.IO;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Threading;
using Checkpoint.IO;

namespace Checkpoint.Security;

/// <summary>
/// The user's own secret key, with which the block a run keeps for its resumes is signed: 32 random bytes in
/// <c>$HOME/.config/checkpoint/key</c> on Unix, <c>%APPDATA%\Checkpoint\key</c> on Windows, or the file that
/// <see cref="PathVariable"/> names (for clusters whose nodes share no home folder). It is made on first use,
/// readable by the user alone. On Unix a key file that another user owns, or that the group or others may
/// read or write, is refused, as OpenSSH refuses such a private key: anyone who can read it can sign.
/// </summary>
public static class UserKey
{
    /// <summary>The environment variable that names another key file.</summary>
    public const string PathVariable = "CHECKPOINT_KEY_FILE";

    /// <summary>The key's length in bytes.</summary>
    public const int Length = 32;

    private static readonly bool s_isWindows = RuntimeInformation.IsOSPlatform(OSPlatform.Windows);

    /// <summary>The key file of this user: <see cref="PathVariable"/> when set, else the profile's.</summary>
    public static string DefaultPath()
    {
        string? named = Environment.GetEnvironmentVariable(PathVariable);
        if (!string.IsNullOrWhiteSpace(named))
        {
            return Path.GetFullPath(named);
        }

        return s_isWindows
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.ApplicationData), "Checkpoint", "key")
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config", "checkpoint", "key");
    }

    /// <summary>
    /// The key at <paramref name="path"/>, made first when there is none and <paramref name="create"/> is set.
    /// Returns null and says why in <paramref name="problem"/> when there is no usable key: missing (and not to be
    /// made), unreadable, of the wrong length, or open to other users.
    /// </summary>
    public static byte[]? TryLoad(string path, bool create, out string? problem)
    {
        problem = null;
        if (!File.Exists(path))
        {
            if (!create)
            {
                problem = $"the key file '{path}' does not exist";
                return null;
            }

            try
            {
                Create(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                problem = $"the key file '{path}' cannot be made: {e.Message}";
                return null;
            }
        }

        if (UnsafeBecause(path) is string unsafeReason)
        {
            problem = $"the key file '{path}' {unsafeReason}; make it readable by you alone (chmod 600) or let the module make a new one";
            return null;
        }

        byte[] key;
        try
        {
            key = ReadWhole(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problem = $"the key file '{path}' cannot be read: {e.Message}";
            return null;
        }

        if (key.Length != Length)
        {
            problem = $"the key file '{path}' holds {key.Length} bytes, not {Length}";
            return null;
        }

        return key;
    }

    // Another process may be making the same key file: a short file is read again until the maker is done.
    private static byte[] ReadWhole(string path)
    {
        byte[] key = File.ReadAllBytes(path);
        for (int i = 0; i < 20 && key.Length < Length; i++)
        {
            Thread.Sleep(50);
            key = File.ReadAllBytes(path);
        }

        return key;
    }

    private static void Create(string path)
    {
        string directory = Path.GetDirectoryName(path)!;
        bool made = !Directory.Exists(directory);
        Directory.CreateDirectory(directory);
        byte[] key = new byte[Length];
        using (var random = RandomNumberGenerator.Create())
        {
            random.GetBytes(key);
        }

        if (s_isWindows || !UnixFiles.IsSupported)
        {
            // %APPDATA% is the user's own; its default access list already keeps other users out.
            try
            {
                using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None);
                stream.Write(key, 0, key.Length);
                stream.Flush(true);
            }
            catch (IOException e) when (IoErrors.IsAlreadyExists(e))
            {
                // Made by another process meanwhile: that key is the key.
            }

            return;
        }

        if (made)
        {
            UnixFiles.ChangeMode(directory, UnixFiles.OwnerOnlyDirectory);
        }

        UnixFiles.CreateOwnerOnly(path, key);
    }

    private static string? UnsafeBecause(string path)
    {
        if (s_isWindows || !UnixFiles.IsSupported || UnixFiles.StatusOf(path) is not UnixFiles.Status status)
        {
            return null;
        }

        if (!status.IsRegularFile)
        {
            return "is not a regular file";
        }

        if (status.Owner != UnixFiles.CurrentUser)
        {
            return $"belongs to another user (uid {status.Owner})";
        }

        if ((status.Mode & 0x3F) != 0)
        {
            return "can be read or written by others (mode " + Convert.ToString(status.Mode & 0xFFF, 8).PadLeft(4, '0') + ")";
        }

        return null;
    }
}
