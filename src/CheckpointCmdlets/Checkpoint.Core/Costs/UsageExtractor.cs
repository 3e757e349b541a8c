using System;
using System.Runtime.CompilerServices;
using System.Text.Json;

namespace Checkpoint.Costs;

/// <summary>
/// Finds token usage in a sample's result: OpenAI style (<c>usage.prompt_tokens</c>,
/// <c>usage.completion_tokens</c>) or Anthropic style (<c>usage.input_tokens</c>, <c>usage.output_tokens</c>),
/// on the result itself or one level down (a property whose value holds <c>usage</c>); for an array result,
/// summed over its elements.
/// </summary>
public static class UsageExtractor
{
    /// <summary>The tokens in <paramref name="outputJson"/>, or nulls when it reports none.</summary>
    [MethodImpl(JitOptions.Optimized)]
    public static (long? Input, long? Output) FromOutput(string? outputJson)
    {
        // Most results report no usage: skip the parse unless the text can hold it.
        if (outputJson is null || outputJson.IndexOf("_tokens", StringComparison.Ordinal) < 0)
        {
            return (null, null);
        }

        try
        {
            using JsonDocument document = JsonDocument.Parse(outputJson);
            long input = 0, output = 0;
            bool found = false;
            if (document.RootElement.ValueKind == JsonValueKind.Array)
            {
                foreach (JsonElement item in document.RootElement.EnumerateArray())
                {
                    found |= AddFrom(item, ref input, ref output);
                }
            }
            else
            {
                found = AddFrom(document.RootElement, ref input, ref output);
            }

            return found ? (input, output) : (null, null);
        }
        catch (JsonException)
        {
            return (null, null);
        }
    }

    // The element's own usage, else the usages one level down.
    private static bool AddFrom(JsonElement element, ref long input, ref long output)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            return false;
        }

        if (TryUsage(element, ref input, ref output))
        {
            return true;
        }

        bool found = false;
        foreach (JsonProperty property in element.EnumerateObject())
        {
            if (property.Value.ValueKind == JsonValueKind.Object)
            {
                found |= TryUsage(property.Value, ref input, ref output);
            }
        }

        return found;
    }

    private static bool TryUsage(JsonElement element, ref long input, ref long output)
    {
        if (!element.TryGetProperty("usage", out JsonElement usage) || usage.ValueKind != JsonValueKind.Object)
        {
            return false;
        }

        long? inTokens = Number(usage, "prompt_tokens") ?? Number(usage, "input_tokens");
        long? outTokens = Number(usage, "completion_tokens") ?? Number(usage, "output_tokens");
        if (inTokens is null && outTokens is null)
        {
            return false;
        }

        input += inTokens ?? 0;
        output += outTokens ?? 0;
        return true;
    }

    private static long? Number(JsonElement element, string name) =>
        element.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out long n) ? n : null;
}
