using System;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Checkpoint.Runs;

/// <summary>Derives a sample's random seed from the run seed and the sample id.</summary>
public static class SampleSeeds
{
    /// <summary>The seed of a sample's random stream: the first four bytes of SHA-256("seed:id").</summary>
    public static int For(int runSeed, string sampleId)
    {
        byte[] digest;
        using (SHA256 sha = SHA256.Create())
        {
            digest = sha.ComputeHash(Encoding.UTF8.GetBytes(runSeed.ToString(CultureInfo.InvariantCulture) + ":" + sampleId));
        }

        return BitConverter.ToInt32(digest, 0) & int.MaxValue;
    }
}
