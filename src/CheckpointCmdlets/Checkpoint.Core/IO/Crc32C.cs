using System;
using System.Reflection;
using System.Runtime.InteropServices;

namespace Checkpoint.IO;

/// <summary>
/// CRC-32C (Castagnoli), the checksum LevelDB and iSCSI use. On .NET 8 and later (PowerShell 7) it uses the
/// runtime's <c>BitOperations.Crc32C</c>, which runs on the processor's CRC instruction; elsewhere (Windows
/// PowerShell) a table-driven slicing-by-eight version. Both give the same values.
/// </summary>
internal static class Crc32C
{
    private const uint Polynomial = 0x82F63B78u;
    private static readonly uint[] s_table = BuildTable();
    private static readonly Func<uint, ulong, uint>? s_hardware64 = FindRuntimeCrc<ulong>();
    private static readonly Func<uint, byte, uint>? s_hardware8 = FindRuntimeCrc<byte>();

    /// <summary>Computes the CRC-32C of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => Append(0u, data);

    /// <summary>Continues a CRC-32C over more bytes.</summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data) =>
        s_hardware64 is not null && s_hardware8 is not null ? AppendRuntime(crc, data, s_hardware64, s_hardware8) : AppendTable(crc, data);

    /// <summary>The portable version, used where the runtime has no CRC-32C of its own.</summary>
    internal static uint AppendTable(uint crc, ReadOnlySpan<byte> data)
    {
        uint[] table = s_table;
        crc = ~crc;
        int i = 0;
        while (data.Length - i >= 8)
        {
            uint low = crc ^ (uint)(data[i] | data[i + 1] << 8 | data[i + 2] << 16 | data[i + 3] << 24);
            uint high = (uint)(data[i + 4] | data[i + 5] << 8 | data[i + 6] << 16 | data[i + 7] << 24);
            crc = table[(7 * 256) + (low & 0xFF)] ^ table[(6 * 256) + ((low >> 8) & 0xFF)]
                ^ table[(5 * 256) + ((low >> 16) & 0xFF)] ^ table[(4 * 256) + (low >> 24)]
                ^ table[(3 * 256) + (high & 0xFF)] ^ table[(2 * 256) + ((high >> 8) & 0xFF)]
                ^ table[256 + ((high >> 16) & 0xFF)] ^ table[high >> 24];
            i += 8;
        }

        for (; i < data.Length; i++)
        {
            crc = table[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
        }

        return ~crc;
    }

    private static uint AppendRuntime(uint crc, ReadOnlySpan<byte> data, Func<uint, ulong, uint> step64, Func<uint, byte, uint> step8)
    {
        crc = ~crc;
        ReadOnlySpan<ulong> words = MemoryMarshal.Cast<byte, ulong>(data);
        if (!BitConverter.IsLittleEndian)
        {
            return AppendTable(~crc, data);
        }

        foreach (ulong word in words)
        {
            crc = step64(crc, word);
        }

        for (int i = words.Length * 8; i < data.Length; i++)
        {
            crc = step8(crc, data[i]);
        }

        return ~crc;
    }

    // System.Numerics.BitOperations.Crc32C(uint, ulong / byte) exists from .NET 8 on; netstandard2.0 cannot
    // name it, so it is bound once through reflection.
    private static Func<uint, T, uint>? FindRuntimeCrc<T>()
    {
        try
        {
            Type? operations = Type.GetType("System.Numerics.BitOperations, System.Runtime", throwOnError: false)
                ?? typeof(object).Assembly.GetType("System.Numerics.BitOperations", throwOnError: false);
            MethodInfo? method = operations?.GetMethod("Crc32C", BindingFlags.Public | BindingFlags.Static, null, new[] { typeof(uint), typeof(T) }, null);
            return method is null ? null : (Func<uint, T, uint>)Delegate.CreateDelegate(typeof(Func<uint, T, uint>), method);
        }
        catch (Exception e) when (e is ArgumentException or MemberAccessException or TypeLoadException)
        {
            return null;
        }
    }

    private static uint[] BuildTable()
    {
        var table = new uint[8 * 256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? Polynomial ^ (c >> 1) : c >> 1;
            }

            table[n] = c;
        }

        for (int slice = 1; slice < 8; slice++)
        {
            for (int n = 0; n < 256; n++)
            {
                uint previous = table[((slice - 1) * 256) + n];
                table[(slice * 256) + n] = (previous >> 8) ^ table[previous & 0xFF];
            }
        }

        return table;
    }
}
