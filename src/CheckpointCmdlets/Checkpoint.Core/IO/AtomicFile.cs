using System;
using System.Diagnostics;
using System.IO;

namespace Checkpoint.IO;

/// <summary>Replaces small files whole: temp file in the same directory, fsync, rename, directory fsync.</summary>
internal static class AtomicFile
{
    /// <summary>Writes <paramref name="content"/> to <paramref name="path"/> so that a crash leaves the old or the new file, never a mix.</summary>
    public static void Write(string path, byte[] content)
    {
        string fullPath = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(fullPath)!;
        string temp = fullPath + ".tmp-" + Process.GetCurrentProcess().Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        try
        {
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.None))
            {
                stream.Write(content, 0, content.Length);
                NativeFile.Fsync(stream.SafeFileHandle, temp);
            }

            NativeFile.ReplaceFile(temp, fullPath);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }

        NativeFile.FsyncDirectory(directory);
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
