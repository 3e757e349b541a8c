using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using Checkpoint.Runs;

namespace Checkpoint.Commands.Internal;

/// <summary>
/// Finds the runs a reader cmdlet names by -RunId (wildcards matched only against the runs found in the
/// directory, so no argument can reach outside it) or by -Path (a run's .jsonl file).
/// </summary>
internal static class RunSelector
{
    /// <summary>The runs in <paramref name="directory"/> matching <paramref name="runIds"/> (all runs when none).</summary>
    public static IReadOnlyList<RunSet> ByRunId(PSCmdlet cmdlet, string directory, string[]? runIds)
    {
        if (runIds is null || runIds.Length == 0)
        {
            return RunSet.Find(directory);
        }

        var found = new List<RunSet>();
        foreach (string runId in runIds)
        {
            var pattern = new WildcardPattern(runId, WildcardOptions.IgnoreCase | WildcardOptions.CultureInvariant);
            IReadOnlyList<RunSet> matches;
            try
            {
                matches = RunSet.Find(directory, pattern.IsMatch);
            }
            catch (WildcardPatternException e)
            {
                cmdlet.WriteError(ErrorRecords.Create(
                    ErrorRecords.RunNotFound,
                    ErrorCategory.ObjectNotFound,
                    $"'{runId}' names no run: it is not a valid run id or wildcard pattern ({e.Message}). Escape a literal [ or ] with a backtick.",
                    runId));
                continue;
            }

            if (matches.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(runId))
            {
                cmdlet.WriteError(ErrorRecords.Create(
                    ErrorRecords.RunNotFound,
                    ErrorCategory.ObjectNotFound,
                    $"No run '{runId}' in '{directory}'. Get-CheckpointStats -OutputDirectory '{directory}' lists the runs there.",
                    runId));
            }

            found.AddRange(matches.Where(m => !found.Any(f => f.RunId == m.RunId)));
        }

        return found;
    }

    /// <summary>
    /// The runs a reader cmdlet names: by <paramref name="path"/> when <paramref name="byPath"/>, else by
    /// <paramref name="runIds"/> in <paramref name="outputDirectory"/>. Problems are written as errors.
    /// </summary>
    public static IReadOnlyList<RunSet> Resolve(PSCmdlet cmdlet, bool byPath, string path, string outputDirectory, string[]? runIds) =>
        byPath
            ? (ByPath(cmdlet, path) is RunSet one ? new[] { one } : Array.Empty<RunSet>())
            : ByRunId(cmdlet, CommandPaths.Resolve(cmdlet, outputDirectory), runIds);

    /// <summary>The run whose results file is <paramref name="path"/>, or null after writing an error.</summary>
    public static RunSet? ByPath(PSCmdlet cmdlet, string path)
    {
        string full = CommandPaths.Resolve(cmdlet, path);
        RunSet? set = File.Exists(full) ? RunSet.FromResultsPath(full) : null;
        if (set is null)
        {
            cmdlet.WriteError(ErrorRecords.Create(
                File.Exists(full) ? ErrorRecords.NotACheckpointFile : ErrorRecords.RunNotFound,
                File.Exists(full) ? ErrorCategory.InvalidArgument : ErrorCategory.ObjectNotFound,
                File.Exists(full)
                    ? $"'{full}' is not a checkpoint results file: its name must be {{RunId}}.jsonl or {{RunId}}_shard-k-of-n.jsonl."
                    : $"'{full}' does not exist. Give the path of a run's .jsonl file.",
                path));
        }

        return set;
    }
}
