using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Checkpoint.IO;

namespace Checkpoint.Cache;

/// <summary>
/// The key of a cached call: the SHA-256 of the key object's canonical JSON (property names sorted
/// ordinally at every depth, no white space, numbers as the invariant culture writes them), so that two
/// equal keys built in another order, on another machine or in another culture hash the same.
/// </summary>
public sealed class CacheKey
{
    private static readonly JsonWriterOptions s_options = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Indented = false,
    };

    /// <summary>What a secret-named property's value is stored as.</summary>
    public const string MaskedValue = "***";

    private CacheKey(string hash, string stored, IReadOnlyList<string> secretNames)
    {
        Hash = hash;
        Stored = stored;
        SecretNames = secretNames;
    }

    /// <summary>The key's hash, 64 lowercase hex digits.</summary>
    public string Hash { get; }

    /// <summary>
    /// The canonical JSON kept with the entry, so that a cache can be listed and cleared by key: the values
    /// of properties named like secrets are masked, so a secret never reaches the disk.
    /// </summary>
    public string Stored { get; }

    /// <summary>Property names in the key that look like secrets (api_key, Authorization, ...), each once.</summary>
    public IReadOnlyList<string> SecretNames { get; }

    /// <summary>The key of the object whose JSON is <paramref name="json"/>.</summary>
    public static CacheKey FromJson(string json)
    {
        var secrets = new SortedSet<string>(StringComparer.Ordinal);
        GrowableBuffer canonical = Write(json, secrets, mask: false);
        string stored = secrets.Count == 0 ? Encoding.UTF8.GetString(canonical.Array, 0, canonical.Count) : Canonical(json);
        using SHA256 sha = SHA256.Create();
        byte[] hash = sha.ComputeHash(canonical.Array, 0, canonical.Count);
        var hex = new StringBuilder(hash.Length * 2);
        foreach (byte b in hash)
        {
            hex.Append(b.ToString("x2", CultureInfo.InvariantCulture));
        }

        return new CacheKey(hex.ToString(), stored, secrets.ToArray());
    }

    /// <summary>The canonical JSON of <paramref name="json"/>, as stored: as hashed, with the values of secret-named properties masked.</summary>
    public static string Canonical(string json)
    {
        GrowableBuffer canonical = Write(json, new SortedSet<string>(StringComparer.Ordinal), mask: true);
        return Encoding.UTF8.GetString(canonical.Array, 0, canonical.Count);
    }

    private static GrowableBuffer Write(string json, SortedSet<string> secrets, bool mask)
    {
        using JsonDocument document = JsonDocument.Parse(json);
        var buffer = new GrowableBuffer(json.Length + 16);
        using (var writer = new Utf8JsonWriter(buffer, s_options))
        {
            WriteCanonical(writer, document.RootElement, secrets, mask);
        }

        return buffer;
    }

    private static void WriteCanonical(Utf8JsonWriter writer, JsonElement element, SortedSet<string> secrets, bool mask)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                writer.WriteStartObject();
                foreach (JsonProperty property in element.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal))
                {
                    writer.WritePropertyName(property.Name);
                    if (Security.SecretFilter.IsSecretName(property.Name))
                    {
                        secrets.Add(property.Name);
                        if (mask)
                        {
                            writer.WriteStringValue(MaskedValue);
                            continue;
                        }
                    }

                    WriteCanonical(writer, property.Value, secrets, mask);
                }

                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (JsonElement item in element.EnumerateArray())
                {
                    WriteCanonical(writer, item, secrets, mask);
                }

                writer.WriteEndArray();
                break;
            case JsonValueKind.Number:
                // 1, 1.0 and 1e0 are one number to a model's API: written as the shortest invariant form.
                writer.WriteNumberValue(element.TryGetInt64(out long whole) ? whole : element.GetDouble());
                break;
            default:
                element.WriteTo(writer);
                break;
        }
    }
}
