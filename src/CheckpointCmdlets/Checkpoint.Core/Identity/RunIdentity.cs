using System;
using System.Collections;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Checkpoint.IO;
using Checkpoint.Json;
using Checkpoint.Store;
using Checkpoint.Security;

namespace Checkpoint.Identity;

/// <summary>
/// The stable identity of a run: <c>yyyyMMdd_{dataset}_{model}_{hash8}</c>. The date is the day the run first
/// started; the hash covers the canonical configuration (model, config values without secrets, seed), never
/// throttle, retry or timeout settings. Every part is reduced to <c>[A-Za-z0-9._-]</c>, so a run id can never
/// name a path outside its output directory.
/// </summary>
public sealed class RunIdentity
{
    private const int MaxPartLength = 64;

    private RunIdentity(string datasetName, string model, string configHash, string canonicalConfig)
    {
        DatasetName = datasetName;
        Model = model;
        ConfigHash = configHash;
        CanonicalConfig = canonicalConfig;
    }

    /// <summary>The dataset part: the file's base name, made safe.</summary>
    public string DatasetName { get; }

    /// <summary>The model part, made safe.</summary>
    public string Model { get; }

    /// <summary>Eight hex digits of the SHA-256 of <see cref="CanonicalConfig"/>.</summary>
    public string ConfigHash { get; }

    /// <summary>The canonical configuration JSON that the hash covers (sorted keys, no secrets).</summary>
    public string CanonicalConfig { get; }

    /// <summary>The part of the run id after the date: <c>_{dataset}_{model}_{hash8}</c>.</summary>
    public string Suffix => "_" + DatasetName + "_" + Model + "_" + ConfigHash;

    /// <summary>Builds the identity of a run of <paramref name="datasetPath"/> on <paramref name="model"/>.</summary>
    public static RunIdentity Create(string datasetPath, string model, IDictionary? config, int seed)
    {
        string datasetName = Sanitize(Path.GetFileNameWithoutExtension(datasetPath));
        string canonical = CanonicalizeConfig(model, config, seed);
        byte[] hash;
        using (SHA256 sha = SHA256.Create())
        {
            hash = sha.ComputeHash(Encoding.UTF8.GetBytes(canonical));
        }

        string hash8 = string.Concat(hash.Take(4).Select(b => b.ToString("x2", CultureInfo.InvariantCulture)));
        return new RunIdentity(datasetName, Sanitize(model), hash8, canonical);
    }

    /// <summary>The run id for a run first started on <paramref name="date"/>.</summary>
    public string RunIdFor(DateTime date) => date.ToString("yyyyMMdd", CultureInfo.InvariantCulture) + Suffix;

    /// <summary>
    /// The run id a reader expects a start today to use: the one the run id marker in
    /// <paramref name="outputDirectory"/> holds (<c>{dataset}_{model}_{hash8}.runid</c>), else the earliest
    /// existing run of the same dataset, model and configuration (so a run interrupted at midnight is
    /// continued, not restarted), else a new id dated <paramref name="today"/>. Creates and changes nothing.
    /// </summary>
    public string ResolveRunId(string outputDirectory, DateTime today) =>
        RunIdMarker.RunIdOf(this, outputDirectory) ?? FindExisting(outputDirectory) ?? RunIdFor(today);

    /// <summary>
    /// The run id a writer uses, settled by the run id marker: as <see cref="ResolveRunId"/>, but the first
    /// start creates the marker (creating <paramref name="outputDirectory"/> if need be) and every later start,
    /// on any day, joins the id it holds. Call it only where the run's files are about to be created.
    /// </summary>
    public string ClaimRunId(string outputDirectory, DateTime today) => RunIdMarker.Claim(this, outputDirectory, today, RunIdMarker.SettleTime);

    /// <summary>The earliest existing run id with this identity in the directory, or null.</summary>
    public string? FindExisting(string outputDirectory)
    {
        if (!Directory.Exists(outputDirectory))
        {
            return null;
        }

        return RunFiles.DiscoverRunIds(outputDirectory)
            .Where(IsRunIdOf)
            .OrderBy(id => id, StringComparer.Ordinal)
            .FirstOrDefault();
    }

    /// <summary>True when <paramref name="runId"/> is a date followed by this identity's <see cref="Suffix"/>.</summary>
    internal bool IsRunIdOf(string? runId) =>
        runId is not null && runId.Length == 8 + Suffix.Length && runId.EndsWith(Suffix, StringComparison.Ordinal) && IsDate(runId.Substring(0, 8));

    /// <summary>Reduces a name to <c>[A-Za-z0-9._-]</c>, at most 64 characters; no part is empty or only dots.</summary>
    public static string Sanitize(string? name)
    {
        var builder = new StringBuilder();
        foreach (char c in name ?? string.Empty)
        {
            bool safe = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
            builder.Append(safe ? c : '-');
            if (builder.Length == MaxPartLength)
            {
                break;
            }
        }

        string result = builder.ToString();
        if (result.Trim('.').Length == 0)
        {
            result = result.Replace('.', '-');
        }

        return result.Length == 0 ? "-" : result;
    }

    /// <summary>The canonical JSON that the config hash covers.</summary>
    public static string CanonicalizeConfig(string model, IDictionary? config, int seed)
    {
        var buffer = new GrowableBuffer(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("model", model);
            writer.WritePropertyName("config");
            PlainJson.WriteValue(writer, SecretFilter.WithoutSecrets(config), sortKeys: true);
            writer.WriteNumber("seed", seed);
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.Array, 0, buffer.Count);
    }

    private static bool IsDate(string text) =>
        DateTime.TryParseExact(text, "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _);
}
