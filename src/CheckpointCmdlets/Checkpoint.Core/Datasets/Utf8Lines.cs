using System;
using System.IO;
using System.Runtime.CompilerServices;

namespace Checkpoint.Datasets;

/// <summary>
/// Splits a UTF-8 stream into lines as <see cref="StreamReader.ReadLine"/> does (a line ends at a line feed,
/// a carriage return and line feed, or a lone carriage return; a UTF-8 byte order mark at the start is not
/// part of the first line), handing out each line's bytes instead of a string. Those bytes never hold
/// either break, since UTF-8 uses the two bytes for nothing else.
/// </summary>
internal sealed class Utf8Lines
{
    private readonly Stream _stream;
    private byte[] _buffer = new byte[1 << 16];
    private int _start;
    private int _filled;
    private bool _atEnd;

    private Utf8Lines(Stream stream)
    {
        _stream = stream;
    }

    /// <summary>
    /// Starts reading <paramref name="stream"/> at its current position. Null, with <paramref name="text"/>
    /// the whole stream as text, when it starts with a UTF-16 or UTF-32 byte order mark.
    /// </summary>
    public static Utf8Lines? Open(Stream stream, out TextReader? text)
    {
        var lines = new Utf8Lines(stream);
        lines.Fill(4);
        ReadOnlySpan<byte> head = new(lines._buffer, 0, lines._filled);
        if (head.Length >= 2 && ((head[0] == 0xFE && head[1] == 0xFF) || (head[0] == 0xFF && head[1] == 0xFE)
            || (head.Length >= 4 && head[0] == 0 && head[1] == 0 && head[2] == 0xFE && head[3] == 0xFF)))
        {
            text = new StreamReader(new RestStream(lines), new System.Text.UTF8Encoding(false), detectEncodingFromByteOrderMarks: true);
            return null;
        }

        if (head.Length >= 3 && head[0] == 0xEF && head[1] == 0xBB && head[2] == 0xBF)
        {
            lines._start = 3;
        }

        text = null;
        return lines;
    }

    /// <summary>The next line's bytes, without its break, valid until the next call; false at the end.</summary>
    [MethodImpl(JitOptions.Optimized)]
    public bool Next(out ArraySegment<byte> line)
    {
        int searched = 0;
        while (true)
        {
            int at = new ReadOnlySpan<byte>(_buffer, _start + searched, _filled - _start - searched).IndexOfAny((byte)'\n', (byte)'\r');
            if (at >= 0)
            {
                int end = _start + searched + at;
                int next = end + 1;
                if (_buffer[end] == (byte)'\r')
                {
                    if (next == _filled && !_atEnd)
                    {
                        // Whether a line feed follows is in the next read.
                        searched = end - _start;
                        Fill(_filled - _start + 1);
                        continue;
                    }

                    if (next < _filled && _buffer[next] == (byte)'\n')
                    {
                        next++;
                    }
                }

                line = new ArraySegment<byte>(_buffer, _start, end - _start);
                _start = next;
                return true;
            }

            if (_atEnd)
            {
                line = new ArraySegment<byte>(_buffer, _start, _filled - _start);
                bool any = _filled > _start;
                _start = _filled;
                return any;
            }

            searched = _filled - _start;
            Fill(_filled - _start + 1);
        }
    }

    // Makes at least `needed` bytes from _start available, unless the stream ends first (then _atEnd is set).
    private void Fill(int needed)
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _filled - _start);
            _filled -= _start;
            _start = 0;
        }

        if (needed > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(needed, _buffer.Length * 2));
        }

        while (_filled < needed && !_atEnd)
        {
            int read = _stream.Read(_buffer, _filled, _buffer.Length - _filled);
            if (read == 0)
            {
                _atEnd = true;
            }

            _filled += read;
        }
    }

    /// <summary>The bytes read ahead, then the rest of the stream.</summary>
    private sealed class RestStream : Stream
    {
        private readonly Utf8Lines _lines;

        public RestStream(Utf8Lines lines)
        {
            _lines = lines;
        }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            int ahead = _lines._filled - _lines._start;
            if (ahead == 0)
            {
                return _lines._stream.Read(buffer, offset, count);
            }

            int taken = Math.Min(ahead, count);
            Buffer.BlockCopy(_lines._buffer, _lines._start, buffer, offset, taken);
            _lines._start += taken;
            return taken;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
