using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;

namespace Checkpoint.Security;

/// <summary>
/// Masks secrets in text bound for the disk (error messages, the errors log): Authorization headers, api-key
/// headers and query parameters, bearer tokens, well-known key shapes (sk-...), and the exact values of the
/// run's secret config entries.
/// </summary>
public sealed class SecretMasker
{
    private const string Mask = "***";

    private static readonly Regex s_patterns = new(
        @"(?<keep>(?:authorization|proxy-authorization)[""']?\s*[:=]\s*[""']?(?:(?:bearer|basic|token|digest)\s+)?)[^\s,;""'}]+"
        + @"|(?<keep>(?:api[-_]?key|x-api-key|access[-_]?token|token|key|secret|password)[""']?\s*[:=]\s*[""']?)[^\s,;&""'}]+"
        + @"|(?<keep>[?&](?:api[-_]?key|key|token|access_token|sig)=)[^&\s""']+"
        + @"|(?<keep>\bbearer\s+)[A-Za-z0-9\-._~+/]+=*"
        + @"|(?<keep>)\bsk-[A-Za-z0-9_\-]{8,}",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.Compiled);

    private readonly string[] _values;

    /// <summary>Masks the patterns and the values of the secret entries of <paramref name="config"/>.</summary>
    public SecretMasker(IDictionary? config)
    {
        var values = new List<string>();
        Collect(config, values);
        _values = values.Where(v => v.Length >= 4).Distinct(StringComparer.Ordinal).OrderByDescending(v => v.Length).ToArray();
    }

    /// <summary>The text with every secret replaced by ***.</summary>
    public string Apply(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return text ?? string.Empty;
        }

        string result = text!;
        foreach (string value in _values)
        {
            result = result.Replace(value, Mask);
        }

        return s_patterns.Replace(result, m => m.Groups["keep"].Value + Mask);
    }

    private static void Collect(IDictionary? config, List<string> values)
    {
        if (config is null)
        {
            return;
        }

        foreach (DictionaryEntry entry in config)
        {
            string name = Convert.ToString(entry.Key, System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty;
            if (entry.Value is IDictionary nested)
            {
                Collect(nested, values);
            }
            else if (SecretFilter.IsSecretName(name) && entry.Value is string secret)
            {
                values.Add(secret);
            }
        }
    }
}
