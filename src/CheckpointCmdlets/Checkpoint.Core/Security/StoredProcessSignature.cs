using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Checkpoint.IO;
using Checkpoint.Json;
using Checkpoint.Store;

namespace Checkpoint.Security;

/// <summary>
/// The keyed MAC (HMAC-SHA256 with the user's key, <see cref="UserKey"/>) over what a resume takes from a run's
/// state file: the block's text and every kept setting (modules to import, pricing, retries: a changed one
/// changes what runs), and the run's id, shard, dataset, id column, model, config and seed (a changed config
/// can point the user's own block, holding the user's API key, at another server). The state file's CRC
/// finds damage; anyone can recompute it, and only the key's owner can make this.
/// </summary>
public static class StoredProcessSignature
{
    /// <summary>The kept setting that holds the MAC; it is not part of what it covers.</summary>
    public const string Setting = "process_mac";

    /// <summary>
    /// Signs <paramref name="state"/> with <paramref name="key"/>: keeps in its settings the MAC of the state as its
    /// file will read back, so that a resume that reads the file finds the same bytes to check.
    /// </summary>
    public static void Sign(byte[] key, RunState state)
    {
        state.Settings.Remove(Setting);
        state.Settings[Setting] = Compute(key, StateFile.RoundTrip(state));
    }

    /// <summary>The MAC of <paramref name="state"/>, as 64 lowercase hex digits.</summary>
    public static string Compute(byte[] key, RunState state)
    {
        using var hmac = new HMACSHA256(key);
        byte[] mac = hmac.ComputeHash(Covered(state));
        return string.Concat(mac.Select(b => b.ToString("x2", CultureInfo.InvariantCulture)));
    }

    /// <summary>True when <paramref name="state"/> holds a MAC that <paramref name="key"/> made over it, as it is now.</summary>
    public static bool Verify(byte[] key, RunState state)
    {
        if (!state.Settings.TryGetValue(Setting, out object? stored) || stored is not string text)
        {
            return false;
        }

        byte[] expected = Encoding.ASCII.GetBytes(Compute(key, state));
        byte[] actual = Encoding.ASCII.GetBytes(text);
        return actual.Length == expected.Length && FixedTimeEquals(actual, expected);
    }

    /// <summary>The canonical bytes the MAC covers: one JSON object, its keys sorted at every level.</summary>
    internal static byte[] Covered(RunState state)
    {
        var settings = new SortedDictionary<string, object?>(StringComparer.Ordinal);
        foreach (KeyValuePair<string, object?> setting in state.Settings)
        {
            if (setting.Key != Setting)
            {
                settings[setting.Key] = setting.Value;
            }
        }

        object? config = null;
        if (state.ConfigJson is not null)
        {
            using JsonDocument document = JsonDocument.Parse(state.ConfigJson);
            config = PlainJson.ToPlain(document.RootElement);
        }

        var covered = new SortedDictionary<string, object?>(StringComparer.Ordinal)
        {
            ["config"] = config,
            ["dataset"] = state.DatasetPath,
            ["id_column"] = state.IdColumn,
            ["model"] = state.Model,
            ["run_id"] = state.RunId,
            ["seed"] = state.Seed,
            ["settings"] = settings,
            ["shard"] = state.Shard,
        };
        var buffer = new GrowableBuffer(1024);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            PlainJson.WriteValue(writer, covered, sortKeys: true);
        }

        byte[] bytes = new byte[buffer.Count];
        Array.Copy(buffer.Array, bytes, buffer.Count);
        return bytes;
    }

    // netstandard2.0 has no CryptographicOperations.FixedTimeEquals: compare every byte, whatever differs.
    private static bool FixedTimeEquals(byte[] a, byte[] b)
    {
        int difference = 0;
        for (int i = 0; i < a.Length; i++)
        {
            difference |= a[i] ^ b[i];
        }

        return difference == 0;
    }
}
