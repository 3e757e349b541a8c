using System;
using System.Diagnostics;
using System.IO;

namespace Checkpoint.IO;

/// <summary>Replaces small files whole: temp file in the same directory, fsync, rename, directory fsync.</summary>
internal static class AtomicFile
{
    /// <summary>
    /// How readers of a file that a writer may replace at any moment open it: sharing write and delete, so that
    /// on Windows the writer's replace is never refused while one reads (File.ReadAllBytes shares read only).
    /// </summary>
    public const FileShare ReaderShare = FileShare.ReadWrite | FileShare.Delete;

    /// <summary>Reads the whole of <paramref name="path"/>, opened with <see cref="ReaderShare"/>.</summary>
    public static byte[] Read(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, ReaderShare, 1, FileOptions.None);
        var content = new MemoryStream(stream.CanSeek ? (int)Math.Min(stream.Length, int.MaxValue) : 0);
        stream.CopyTo(content);
        return content.ToArray();
    }

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
