using System;
using System.Buffers;

namespace Checkpoint.IO;

/// <summary>A reusable, growable byte buffer that Utf8JsonWriter can write into.</summary>
internal sealed class GrowableBuffer : IBufferWriter<byte>
{
    private byte[] _buffer;
    private int _count;

    public GrowableBuffer(int initialCapacity = 4096) => _buffer = new byte[initialCapacity];

    /// <summary>The bytes written so far.</summary>
    public ReadOnlySpan<byte> WrittenSpan => new(_buffer, 0, _count);

    /// <summary>The underlying array; the first <see cref="Count"/> bytes are written.</summary>
    public byte[] Array => _buffer;

    /// <summary>How many bytes have been written.</summary>
    public int Count => _count;

    public void Clear() => _count = 0;

    /// <summary>Drops the last <paramref name="count"/> bytes.</summary>
    public void Truncate(int count) => _count -= count;

    public void Advance(int count) => _count += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return new Memory<byte>(_buffer, _count, _buffer.Length - _count);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return new Span<byte>(_buffer, _count, _buffer.Length - _count);
    }

    /// <summary>Appends ASCII text (the codec's fixed punctuation and hex digits).</summary>
    public void WriteAscii(string text)
    {
        Ensure(text.Length);
        for (int i = 0; i < text.Length; i++)
        {
            _buffer[_count++] = (byte)text[i];
        }
    }

    private void Ensure(int sizeHint)
    {
        int needed = Math.Max(sizeHint, 1);
        if (_buffer.Length - _count >= needed)
        {
            return;
        }

        int newSize = Math.Max(_buffer.Length * 2, _count + needed);
        System.Array.Resize(ref _buffer, newSize);
    }
}
