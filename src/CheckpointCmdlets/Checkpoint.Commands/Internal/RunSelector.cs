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
                ErrorRecords.Report(
                    cmdlet,
                    ErrorIds.RunNotFound,
                    $"'{runId}' names no run: it is not a valid run id or wildcard pattern ({e.Message}). Escape a literal [ or ] with a backtick.",
                    runId);
                continue;
            }

            if (matches.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(runId))
            {
                ErrorRecords.Report(
                    cmdlet,
                    ErrorIds.RunNotFound,
                    $"No run '{runId}' in '{directory}'. Get-CheckpointStats -OutputDirectory '{directory}' lists the runs there.",
                    runId);
            }

            found.AddRange(matches.Where(m => !found.Any(f => f.RunId == m.RunId)));
        }

        return found;
    }

    /// <summary>
    /// The runs a reader cmdlet names: by <paramref name="path"/> when <paramref name="byPath"/>, else by
    /// <paramref name="runIds"/> in <paramref name="outputDirectory"/>. Problems are written as errors. A path
    /// in <paramref name="seen"/> is of a run this command has had already (another shard's file piped in
    /// after the first): it is skipped, and the files of every run found by path are added.
    /// </summary>
    public static IReadOnlyList<RunSet> Resolve(PSCmdlet cmdlet, bool byPath, string path, string outputDirectory, string[]? runIds, ISet<string> seen)
    {
        if (!byPath)
        {
            return ByRunId(cmdlet, CommandPaths.Resolve(cmdlet, outputDirectory), runIds);
        }

        if (seen.Contains(CommandPaths.Resolve(cmdlet, path)) || ByPath(cmdlet, path) is not RunSet one)
        {
            return Array.Empty<RunSet>();
        }

        seen.UnionWith(one.Parts.Select(p => p.ResultsPath));
        return new[] { one };
    }

    /// <summary>The run whose results file is <paramref name="path"/>, or null after writing an error.</summary>
    public static RunSet? ByPath(PSCmdlet cmdlet, string path)
    {
        string full = CommandPaths.Resolve(cmdlet, path);
        RunSet? set = File.Exists(full) ? RunSet.FromResultsPath(full) : null;
        if (set is null)
        {
            ErrorRecords.Report(
                cmdlet,
                File.Exists(full) ? ErrorIds.NotACheckpointFile : ErrorIds.RunNotFound,
                File.Exists(full)
                    ? $"'{full}' is not a checkpoint results file: its name must be {{RunId}}.jsonl or {{RunId}}_shard-k-of-n.jsonl."
                    : $"'{full}' does not exist. Give the path of a run's .jsonl file.",
                path);
        }

        return set;
    }
}
