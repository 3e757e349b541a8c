using System;
using System.Security.Cryptography;
using System.Text;

namespace Checkpoint.Runs;

/// <summary>Derives stable per-sample numbers from the sample id: random seeds and shard membership.</summary>
public static class SampleSeeds
{
    /// <summary>The seed of a sample's random stream: the first four bytes of SHA-256("seed:id").</summary>
    public static int For(int runSeed, string sampleId)
    {
        byte[] digest = Hash(runSeed.ToString(System.Globalization.CultureInfo.InvariantCulture) + ":" + sampleId);
        return BitConverter.ToInt32(digest, 0) & int.MaxValue;
    }

    /// <summary>
    /// The 0-based shard of <paramref name="sampleId"/> among <paramref name="count"/>: the first eight bytes
    /// of SHA-256(id), little-endian, mod count. The same on every machine; it depends on the id alone, so
    /// reordering or appending rows never moves a sample.
    /// </summary>
    public static int ShardOf(string sampleId, int count)
    {
        if (count <= 1)
        {
            return 0;
        }

        byte[] digest = Hash(sampleId);
        ulong value = 0;
        for (int i = 7; i >= 0; i--)
        {
            value = (value << 8) | digest[i];
        }

        return (int)(value % (ulong)count);
    }

    private static byte[] Hash(string text)
    {
        using SHA256 sha = SHA256.Create();
        return sha.ComputeHash(Encoding.UTF8.GetBytes(text));
    }
}
