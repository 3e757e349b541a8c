using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;

namespace Checkpoint.Sharding;

/// <summary>
/// Which shard a sample belongs to. It depends on the sample id alone, so the same on every machine, and
/// reordering or appending rows never moves a sample to another shard.
/// </summary>
public static class ShardMembership
{
    /// <summary>
    /// The 0-based shard of <paramref name="sampleId"/> among <paramref name="count"/>: the first eight bytes
    /// of SHA-256(id), little-endian, mod count.
    /// </summary>
    public static int IndexOf(string sampleId, int count)
    {
        if (count <= 1)
        {
            return 0;
        }

        byte[] digest;
        using (SHA256 sha = SHA256.Create())
        {
            digest = sha.ComputeHash(Encoding.UTF8.GetBytes(sampleId));
        }

        ulong value = 0;
        for (int i = 7; i >= 0; i--)
        {
            value = (value << 8) | digest[i];
        }

        return (int)(value % (ulong)count);
    }

    /// <summary>True when the sample belongs to <paramref name="shard"/> (always, for an unsharded run).</summary>
    [MethodImpl(JitOptions.Optimized)]
    public static bool Contains(ShardSpec? shard, string sampleId) =>
        shard is null || IndexOf(sampleId, shard.Count) == shard.Index - 1;
}
