using System;
using System.Collections;
using System.Linq;
using System.Management.Automation;

namespace Checkpoint.Commands.Internal;

/// <summary>
/// Turns a -Config hashtable into plain values the core can hash and store: PSCustomObjects become
/// hashtables (so the secret entries inside them are found and left out), PSCredentials become their
/// SecureString password (left out as a secret value), and wrapped values are unwrapped.
/// </summary>
internal static class ConfigConverter
{
    public static Hashtable ToPlain(IDictionary config)
    {
        var result = new Hashtable(StringComparer.OrdinalIgnoreCase);
        foreach (DictionaryEntry entry in config)
        {
            result[entry.Key] = Plain(entry.Value);
        }

        return result;
    }

    private static object? Plain(object? value)
    {
        switch (value)
        {
            case null:
                return null;
            case PSObject { BaseObject: PSCustomObject } custom:
                var properties = new Hashtable(StringComparer.OrdinalIgnoreCase);
                foreach (PSPropertyInfo property in custom.Properties)
                {
                    properties[property.Name] = Plain(property.Value);
                }

                return properties;
            case PSObject wrapped:
                return Plain(wrapped.BaseObject);
            case PSCredential credential:
                return credential.Password;
            case IDictionary dictionary:
                return ToPlain(dictionary);
            case string text:
                return text;
            case IEnumerable items:
                return items.Cast<object?>().Select(Plain).ToArray();
            default:
                return value;
        }
    }
}
