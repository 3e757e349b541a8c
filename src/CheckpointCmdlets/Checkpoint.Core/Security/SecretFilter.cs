using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Security;
using System.Text;

namespace Checkpoint.Security;

/// <summary>
/// Decides which configuration entries are secrets and must never reach the disk or the config hash.
/// A name is secret when one of its words (split at '_', '-', '.', spaces and lower-to-upper case changes)
/// is key, apikey, token, secret, password, passwd, pwd, credential or authorization. Whole words are
/// compared so that <c>max_tokens</c> or <c>keywords</c>, which change a study's results, stay in the hash.
/// </summary>
public static class SecretFilter
{
    private static readonly HashSet<string> s_secretWords = new(StringComparer.OrdinalIgnoreCase)
    {
        "key", "apikey", "token", "secret", "password", "passwd", "pwd", "credential", "credentials", "authorization",
    };

    /// <summary>True when an entry with this name holds a secret.</summary>
    public static bool IsSecretName(string name)
    {
        foreach (string word in SplitWords(name))
        {
            if (s_secretWords.Contains(word))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>True when the value itself is a secret whatever its name (a SecureString).</summary>
    public static bool IsSecretValue(object? value) => value is SecureString;

    /// <summary>
    /// Returns a copy of <paramref name="config"/> without secret entries, recursively, with keys as strings.
    /// </summary>
    public static SortedDictionary<string, object?> WithoutSecrets(IDictionary? config)
    {
        var result = new SortedDictionary<string, object?>(StringComparer.Ordinal);
        if (config is null)
        {
            return result;
        }

        foreach (DictionaryEntry entry in config)
        {
            string name = Convert.ToString(entry.Key, CultureInfo.InvariantCulture) ?? string.Empty;
            if (IsSecretName(name) || IsSecretValue(entry.Value))
            {
                continue;
            }

            result[name] = WithoutSecretsIn(entry.Value);
        }

        return result;
    }

    // Dictionaries inside lists (headers = @(@{ Authorization = ... })) are filtered too.
    // A list without dictionaries in it is kept as it is.
    private static object? WithoutSecretsIn(object? value) => value switch
    {
        IDictionary nested => WithoutSecrets(nested),
        string text => text,
        IEnumerable items when items.Cast<object?>().Any(i => i is IDictionary || (i is IEnumerable && i is not string)) => items.Cast<object?>().Select(WithoutSecretsIn).ToList(),
        _ => value,
    };

    private static IEnumerable<string> SplitWords(string name)
    {
        var word = new StringBuilder();
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            bool separator = !char.IsLetterOrDigit(c);
            bool caseBreak = i > 0 && char.IsUpper(c) && char.IsLower(name[i - 1]);
            if ((separator || caseBreak) && word.Length > 0)
            {
                yield return word.ToString();
                word.Clear();
            }

            if (!separator)
            {
                word.Append(c);
            }
        }

        if (word.Length > 0)
        {
            yield return word.ToString();
        }
    }
}
