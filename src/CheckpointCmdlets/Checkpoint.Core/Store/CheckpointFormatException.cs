using System;

namespace Checkpoint.Store;

/// <summary>A checkpoint file was written by a newer format version than this module reads.</summary>
public sealed class CheckpointFormatException : CheckpointException
{
    /// <summary>Creates the exception for a file of format <paramref name="foundVersion"/>.</summary>
    public CheckpointFormatException(string path, int foundVersion)
        : base(
            ErrorIds.NewerFormatVersion,
            $"'{path}' holds records of format version {foundVersion}, but this module reads versions up to {CheckpointRecord.CurrentFormatVersion}. Update the Checkpoint module to read it; the file was not changed.")
    {
        Path = path;
        FoundVersion = foundVersion;
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>The version found in the file.</summary>
    public int FoundVersion { get; }
}
