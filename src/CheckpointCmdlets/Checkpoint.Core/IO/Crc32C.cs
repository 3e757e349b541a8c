using System;
using System.Reflection;
using System.Reflection.Emit;

namespace Checkpoint.IO;

/// <summary>
/// CRC-32C (Castagnoli), the checksum LevelDB and iSCSI use. On .NET 8 and later (PowerShell 7) it runs on the
/// processor's CRC instruction, through the runtime's <c>BitOperations.Crc32C</c>; elsewhere (Windows
/// PowerShell) a table-driven slicing-by-eight version. Both give the same values.
/// </summary>
internal static class Crc32C
{
    private const uint Polynomial = 0x82F63B78u;
    private static readonly uint[] s_table = BuildTable();
    private static readonly Loop? s_runtime = BitConverter.IsLittleEndian ? CompileRuntimeLoop() : null;

    // The CRC register (not inverted) carried over length bytes from data.
    private unsafe delegate uint Loop(uint crc, byte* data, int length);

    /// <summary>Whether the processor's CRC instruction computes the checksums here (else the table does).</summary>
    internal static bool UsesRuntime => s_runtime is not null;

    /// <summary>Computes the CRC-32C of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => Append(0u, data);

    /// <summary>Continues a CRC-32C over more bytes.</summary>
    public static unsafe uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        if (s_runtime is null)
        {
            return AppendTable(crc, data);
        }

        fixed (byte* p = data)
        {
            return ~s_runtime(~crc, p, data.Length);
        }
    }

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

    // System.Numerics.BitOperations.Crc32C(uint, ulong / byte) exists from .NET 8 on, and netstandard2.0
    // cannot name it. This loop, emitted once, calls it directly, so the JIT turns each call into the CRC
    // instruction, and is compiled optimised from its first call. A delegate call for every 8 bytes instead
    // costs more than the CRC itself (docs/performance.md).
    //     for (end = data + (length & ~7); data < end; data += 8) crc = Crc32C(crc, *(ulong*)data);
    //     for (end = data + (length & 7); data < end; data++) crc = Crc32C(crc, *data);
    //     return crc;
    private static Loop? CompileRuntimeLoop()
    {
        try
        {
            MethodInfo? words = FindRuntimeCrc(typeof(ulong));
            MethodInfo? bytes = FindRuntimeCrc(typeof(byte));
            if (words is null || bytes is null)
            {
                return null;
            }

            var method = new DynamicMethod("Crc32CLoop", typeof(uint), new[] { typeof(uint), typeof(byte*), typeof(int) }, typeof(Crc32C).Module, skipVisibility: true);
            ILGenerator il = method.GetILGenerator();
            LocalBuilder end = il.DeclareLocal(typeof(byte*));
            EmitLoop(il, end, words, mask: ~7, step: 8);
            EmitLoop(il, end, bytes, mask: 7, step: 1);
            il.Emit(OpCodes.Ldarg_0);
            il.Emit(OpCodes.Ret);
            return (Loop)method.CreateDelegate(typeof(Loop));
        }
        catch (Exception e) when (e is ArgumentException or TypeLoadException or MemberAccessException or NotSupportedException or InvalidOperationException)
        {
            return null;
        }
    }

    // end = data + (length & mask); while (data < end) { crc = crc32c(crc, *(T*)data); data += step; }
    private static void EmitLoop(ILGenerator il, LocalBuilder end, MethodInfo crc32c, int mask, int step)
    {
        Label test = il.DefineLabel();
        Label body = il.DefineLabel();
        il.Emit(OpCodes.Ldarg_1);
        il.Emit(OpCodes.Ldarg_2);
        il.Emit(OpCodes.Ldc_I4, mask);
        il.Emit(OpCodes.And);
        il.Emit(OpCodes.Conv_I);
        il.Emit(OpCodes.Add);
        il.Emit(OpCodes.Stloc, end);
        il.Emit(OpCodes.Br, test);

        il.MarkLabel(body);
        il.Emit(OpCodes.Ldarg_0);
        il.Emit(OpCodes.Ldarg_1);
        if (step == sizeof(ulong))
        {
            il.Emit(OpCodes.Unaligned, (byte)1);
            il.Emit(OpCodes.Ldind_I8);
        }
        else
        {
            il.Emit(OpCodes.Ldind_U1);
        }

        il.Emit(OpCodes.Call, crc32c);
        il.Emit(OpCodes.Starg_S, (byte)0);
        il.Emit(OpCodes.Ldarg_1);
        il.Emit(OpCodes.Ldc_I4, step);
        il.Emit(OpCodes.Add);
        il.Emit(OpCodes.Starg_S, (byte)1);

        il.MarkLabel(test);
        il.Emit(OpCodes.Ldarg_1);
        il.Emit(OpCodes.Ldloc, end);
        il.Emit(OpCodes.Blt_Un, body);
    }

    private static MethodInfo? FindRuntimeCrc(Type data)
    {
        Type? operations = Type.GetType("System.Numerics.BitOperations, System.Runtime", throwOnError: false)
            ?? typeof(object).Assembly.GetType("System.Numerics.BitOperations", throwOnError: false);
        return operations?.GetMethod("Crc32C", BindingFlags.Public | BindingFlags.Static, null, new[] { typeof(uint), data }, null);
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
