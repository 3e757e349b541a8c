namespace Checkpoint.Costs;

/// <summary>A model's price per million tokens.</summary>
public sealed class ModelPrice
{
    /// <summary>Creates a price.</summary>
    public ModelPrice(decimal inputPerMillion, decimal outputPerMillion)
    {
        InputPerMillion = inputPerMillion;
        OutputPerMillion = outputPerMillion;
    }

    /// <summary>Price of one million input (prompt) tokens.</summary>
    public decimal InputPerMillion { get; }

    /// <summary>Price of one million output (completion) tokens.</summary>
    public decimal OutputPerMillion { get; }

    /// <summary>The cost of <paramref name="input"/> and <paramref name="output"/> tokens.</summary>
    public decimal CostOf(long input, long output) => ((input * InputPerMillion) + (output * OutputPerMillion)) / 1_000_000m;
}
