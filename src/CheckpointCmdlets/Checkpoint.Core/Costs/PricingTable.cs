using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text.Json;

namespace Checkpoint.Costs;

/// <summary>
/// Prices by model name (case-insensitive): from a hashtable (<c>-Pricing</c>) or a JSON file
/// (<c>-PricingFile</c>, or the dated pricing.json shipped with the module) of the form
/// <c>{ "models": { "gpt-4o": { "InputPerMillion": 2.5, "OutputPerMillion": 10 } } }</c>.
/// </summary>
public sealed class PricingTable
{
    private readonly Dictionary<string, ModelPrice> _prices;

    private PricingTable(Dictionary<string, ModelPrice> prices, string source)
    {
        _prices = prices;
        Source = source;
    }

    /// <summary>Where the prices came from.</summary>
    public string Source { get; }

    /// <summary>No prices: costs come only from the block (<c>$CheckpointContext.AddCost</c>).</summary>
    public static PricingTable Empty { get; } = new(new Dictionary<string, ModelPrice>(StringComparer.OrdinalIgnoreCase), "none");

    /// <summary>The price of <paramref name="model"/>, or null when it has none.</summary>
    public ModelPrice? For(string model) => _prices.TryGetValue(model, out ModelPrice? price) ? price : null;

    /// <summary>Reads a table from a dictionary of model name to a dictionary with InputPerMillion and OutputPerMillion.</summary>
    public static PricingTable FromDictionary(IDictionary pricing, string source = "-Pricing")
    {
        var prices = new Dictionary<string, ModelPrice>(StringComparer.OrdinalIgnoreCase);
        foreach (DictionaryEntry entry in pricing)
        {
            string model = Convert.ToString(entry.Key, CultureInfo.InvariantCulture) ?? string.Empty;
            if (entry.Value is not IDictionary price)
            {
                throw Invalid(source, $"the price of '{model}' is not a table of InputPerMillion and OutputPerMillion");
            }

            prices[model] = new ModelPrice(Amount(price, "InputPerMillion", model, source), Amount(price, "OutputPerMillion", model, source));
        }

        return new PricingTable(prices, source);
    }

    /// <summary>Reads a pricing JSON file.</summary>
    public static PricingTable FromFile(string path)
    {
        try
        {
            using JsonDocument document = JsonDocument.Parse(File.ReadAllBytes(path));
            JsonElement models = document.RootElement.TryGetProperty("models", out JsonElement m) ? m : document.RootElement;
            var prices = new Dictionary<string, ModelPrice>(StringComparer.OrdinalIgnoreCase);
            foreach (JsonProperty model in models.EnumerateObject())
            {
                prices[model.Name] = new ModelPrice(
                    NotNegative(Property(model.Value, "InputPerMillion").GetDecimal(), "InputPerMillion", model.Name, path),
                    NotNegative(Property(model.Value, "OutputPerMillion").GetDecimal(), "OutputPerMillion", model.Name, path));
            }

            return new PricingTable(prices, path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or InvalidOperationException or KeyNotFoundException or FormatException)
        {
            throw Invalid(path, e.Message);
        }
    }

    private static JsonElement Property(JsonElement element, string name)
    {
        foreach (JsonProperty property in element.EnumerateObject())
        {
            if (string.Equals(property.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return property.Value;
            }
        }

        throw new KeyNotFoundException($"'{name}' is missing");
    }

    private static decimal Amount(IDictionary price, string name, string model, string source)
    {
        foreach (DictionaryEntry entry in price)
        {
            if (string.Equals(Convert.ToString(entry.Key, CultureInfo.InvariantCulture), name, StringComparison.OrdinalIgnoreCase))
            {
                decimal amount;
                try
                {
                    // Convert.ToDecimal takes null for 0: an empty price is an error, not a free model.
                    amount = entry.Value is null ? throw new FormatException() : Convert.ToDecimal(entry.Value, CultureInfo.InvariantCulture);
                }
                catch (Exception e) when (e is FormatException or InvalidCastException or OverflowException)
                {
                    throw Invalid(source, $"{name} of '{model}' is not a number");
                }

                return NotNegative(amount, name, model, source);
            }
        }

        throw Invalid(source, $"'{model}' has no {name}");
    }

    // A negative price would lower a run's total cost, so that no -MaxCost could ever be reached.
    private static decimal NotNegative(decimal amount, string name, string model, string source) =>
        amount >= 0 ? amount : throw Invalid(source, string.Format(CultureInfo.InvariantCulture, "{0} of '{1}' is negative ({2})", name, model, amount));

    private static CheckpointException Invalid(string source, string problem) =>
        new(ErrorIds.InvalidPricing, $"The pricing in {source} cannot be used: {problem.TrimEnd('.')}. Give each model @{{ InputPerMillion = 2.50; OutputPerMillion = 10.00 }}.") { Target = source };
}
