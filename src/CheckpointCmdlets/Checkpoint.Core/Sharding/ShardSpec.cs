using System;
using System.Globalization;

namespace Checkpoint.Sharding;

/// <summary>A shard of a run: the k-th of n (1-based), as in <c>-Shard 2/4</c>.</summary>
public sealed class ShardSpec : IEquatable<ShardSpec>
{
    /// <summary>Creates shard <paramref name="index"/> of <paramref name="count"/>.</summary>
    public ShardSpec(int index, int count)
    {
        if (count < 1 || index < 1 || index > count)
        {
            throw new ArgumentOutOfRangeException(nameof(index), $"A shard is k/n with 1 <= k <= n; {index}/{count} is not.");
        }

        Index = index;
        Count = count;
    }

    /// <summary>k, from 1.</summary>
    public int Index { get; }

    /// <summary>n, the number of shards.</summary>
    public int Count { get; }

    /// <summary>The file name part, <c>shard-k-of-n</c>.</summary>
    public string FileTag => string.Format(CultureInfo.InvariantCulture, "shard-{0}-of-{1}", Index, Count);

    /// <summary>Parses <c>k/n</c>. Returns false, with a reason, for anything else.</summary>
    public static bool TryParse(string? text, out ShardSpec? shard, out string? problem)
    {
        shard = null;
        problem = null;
        string[] parts = (text ?? string.Empty).Trim().Split('/');
        if (parts.Length != 2
            || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int k)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int n))
        {
            problem = $"'{text}' is not a shard. Write k/n with whole numbers, such as 2/4.";
            return false;
        }

        if (n < 1 || k < 1 || k > n)
        {
            problem = $"'{text}' is not a shard: k/n needs 1 <= k <= n.";
            return false;
        }

        shard = new ShardSpec(k, n);
        return true;
    }

    /// <summary>
    /// True when some sample id can fall in both parts: an unsharded part (null) overlaps every part, and shard
    /// k/n overlaps j/m when k-1 and j-1 agree modulo gcd(n, m), since a sample's shard is one number (its hash)
    /// taken modulo the shard count.
    /// </summary>
    public static bool Overlap(ShardSpec? a, ShardSpec? b)
    {
        if (a is null || b is null)
        {
            return true;
        }

        int gcd = Gcd(a.Count, b.Count);
        return (a.Index - 1) % gcd == (b.Index - 1) % gcd;
    }

    /// <inheritdoc/>
    public override string ToString() => string.Format(CultureInfo.InvariantCulture, "{0}/{1}", Index, Count);

    /// <inheritdoc/>
    public bool Equals(ShardSpec? other) => other is not null && other.Index == Index && other.Count == Count;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as ShardSpec);

    /// <inheritdoc/>
    public override int GetHashCode() => (Index * 397) ^ Count;

    private static int Gcd(int a, int b)
    {
        while (b != 0)
        {
            (a, b) = (b, a % b);
        }

        return a;
    }
}
