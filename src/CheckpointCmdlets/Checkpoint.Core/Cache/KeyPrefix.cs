using System;
using System.Runtime.CompilerServices;

namespace Checkpoint.Cache;

/// <summary>
/// The first 128 bits of a key's hash, the index's key: a quarter of the memory of the hash as text. A hit
/// compares the entry's whole hash, so two keys sharing a prefix can only miss, never return another's output.
/// </summary>
internal readonly struct KeyPrefix : IEquatable<KeyPrefix>
{
    private readonly ulong _high;
    private readonly ulong _low;

    private KeyPrefix(ulong high, ulong low)
    {
        _high = high;
        _low = low;
    }

    /// <summary>Reads the prefix of a hash written as at least 32 lowercase hex digits; false for anything else.</summary>
    [MethodImpl(JitOptions.Optimized)]
    public static bool TryParse(ReadOnlySpan<byte> hex, out KeyPrefix prefix)
    {
        prefix = default;
        if (hex.Length < 32 || !TryHex(hex.Slice(0, 16), out ulong high) || !TryHex(hex.Slice(16, 16), out ulong low))
        {
            return false;
        }

        prefix = new KeyPrefix(high, low);
        return true;
    }

    /// <summary>The prefix of <paramref name="hash"/>, 64 hex digits.</summary>
    public static KeyPrefix Of(string hash)
    {
        Span<byte> ascii = stackalloc byte[32];
        for (int i = 0; i < 32; i++)
        {
            ascii[i] = (byte)hash[i];
        }

        return TryParse(ascii, out KeyPrefix prefix) ? prefix : throw new ArgumentException("Not a key hash.", nameof(hash));
    }

    public bool Equals(KeyPrefix other) => _high == other._high && _low == other._low;

    public override bool Equals(object? obj) => obj is KeyPrefix other && Equals(other);

    public override int GetHashCode() => (int)_low;

    [MethodImpl(JitOptions.Optimized)]
    private static bool TryHex(ReadOnlySpan<byte> hex, out ulong value)
    {
        value = 0;
        foreach (byte b in hex)
        {
            int digit = b >= '0' && b <= '9' ? b - '0' : b >= 'a' && b <= 'f' ? b - 'a' + 10 : -1;
            if (digit < 0)
            {
                return false;
            }

            value = (value << 4) | (uint)digit;
        }

        return true;
    }
}
