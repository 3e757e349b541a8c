using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace Checkpoint.Runs;

/// <summary>
/// A user's widening (<see cref="RetryOn"/>) or narrowing (<see cref="NoRetryOn"/>) of which failures are
/// transient. Each entry is an exception type name (full, like System.IO.IOException, or short, like
/// IOException; matched against the error and every inner exception) or an HTTP status code (like 409).
/// NoRetryOn wins over RetryOn; both win over the built-in rule.
/// </summary>
public sealed class RetryRules
{
    /// <summary>No changes to the built-in rule.</summary>
    public static readonly RetryRules Default = new(null, null);

    /// <summary>Creates the rules.</summary>
    public RetryRules(IEnumerable<string>? retryOn, IEnumerable<string>? noRetryOn)
    {
        RetryOn = (retryOn ?? Array.Empty<string>()).Where(s => !string.IsNullOrWhiteSpace(s)).Select(s => s.Trim()).ToArray();
        NoRetryOn = (noRetryOn ?? Array.Empty<string>()).Where(s => !string.IsNullOrWhiteSpace(s)).Select(s => s.Trim()).ToArray();
    }

    /// <summary>Failures to treat as transient.</summary>
    public IReadOnlyList<string> RetryOn { get; }

    /// <summary>Failures to treat as permanent.</summary>
    public IReadOnlyList<string> NoRetryOn { get; }

    /// <summary>The verdict for <paramref name="error"/>: the rules' if one matches, else <paramref name="builtIn"/>.</summary>
    public bool IsTransient(Exception error, int? httpStatus, bool builtIn)
    {
        if (Matches(NoRetryOn, error, httpStatus))
        {
            return false;
        }

        return Matches(RetryOn, error, httpStatus) || builtIn;
    }

    private static bool Matches(IReadOnlyList<string> entries, Exception error, int? httpStatus)
    {
        foreach (string entry in entries)
        {
            if (int.TryParse(entry, NumberStyles.None, CultureInfo.InvariantCulture, out int code))
            {
                if (httpStatus == code)
                {
                    return true;
                }

                continue;
            }

            for (Exception? e = error; e is not null; e = e.InnerException)
            {
                Type type = e.GetType();
                if (string.Equals(type.FullName, entry, StringComparison.OrdinalIgnoreCase) || string.Equals(type.Name, entry, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
        }

        return false;
    }
}
