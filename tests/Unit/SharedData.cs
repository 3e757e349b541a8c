using System.IO;

namespace Checkpoint.Tests;

/// <summary>
/// The shared GSM8K files beside the project (../shared/data). A user's clone has none; tests that need them
/// skip with this reason there.
/// </summary>
internal static class SharedData
{
    public const string MissingReason = "../shared/data is absent (a user's clone has no shared GSM8K copy).";

    public static string? Directory
    {
        get
        {
            string? dir = System.AppContext.BaseDirectory;
            while (dir is not null)
            {
                if (File.Exists(Path.Combine(dir, "Checkpoint.psd1")))
                {
                    string data = Path.GetFullPath(Path.Combine(dir, "..", "shared", "data"));
                    return System.IO.Directory.Exists(data) ? data : null;
                }

                dir = Path.GetDirectoryName(dir);
            }

            return null;
        }
    }

    public static string? Jsonl => Directory is string d ? Path.Combine(d, "gsm8k-test.jsonl") : null;

    public static string? Csv => Directory is string d ? Path.Combine(d, "gsm8k-test.csv") : null;
}
