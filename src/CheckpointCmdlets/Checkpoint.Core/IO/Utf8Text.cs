using System;
using System.Runtime.CompilerServices;
using System.Text;

namespace Checkpoint.IO;

/// <summary>UTF-8 bytes to a string without copying them first (netstandard2.0 has no span overload).</summary>
internal static class Utf8Text
{
    /// <summary>Decodes <paramref name="bytes"/>; invalid sequences become U+FFFD, as StreamReader makes them.</summary>
    [MethodImpl(JitOptions.Optimized)]
    public static unsafe string Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return string.Empty;
        }

        fixed (byte* p = bytes)
        {
            return Encoding.UTF8.GetString(p, bytes.Length);
        }
    }
}
