using System;
using System.IO;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Checkpoint.IO;

namespace Checkpoint.Datasets;

/// <summary>
/// Walks a CSV file's bytes row by row (RFC 4180: a quoted field may hold commas, line breaks and doubled
/// quotes), so that a resume reads the rows it skips by their id alone and the others whole, without CsvHelper
/// turning every row into strings. Any row it does not find plain stops it there: an empty row, a lone
/// carriage return, a quote where RFC 4180 allows none, another field count than the header's, an empty id.
/// CsvHelper then reads on from that row's first byte, so every judgement on odd input stays CsvHelper's.
/// Given a hash, it hashes the bytes of the rows it steps past, in file order, each byte once.
/// </summary>
internal sealed class CsvRowReader
{
    private readonly Stream _stream;
    private readonly HashAlgorithm? _hash;
    private byte[] _buffer = new byte[1 << 16];
    private int _start;
    private int _filled;
    private long _bufferOffset;
    private bool _atEnd;
    private string?[] _values = Array.Empty<string?>();
    private long _hashed;

    /// <summary>
    /// Reads <paramref name="stream"/> from its first byte; with <paramref name="hash"/>, hashes the bytes
    /// passed (see <see cref="HashPassedRows"/>).
    /// </summary>
    public CsvRowReader(Stream stream, HashAlgorithm? hash = null)
    {
        _stream = stream;
        _hash = hash;
        _stream.Position = 0;
    }

    /// <summary>The file offset of the row the skipper stands before.</summary>
    public long RowStart => _bufferOffset + _start;

    /// <summary>The line breaks passed so far (a quoted field's count too), for CsvHelper's line numbers.</summary>
    public long LineBreaks { get; private set; }

    /// <summary>
    /// Passes a UTF-8 byte order mark and the header row. False when the file starts with another byte order
    /// mark, or when the header is not <paramref name="header"/> as CsvHelper read it (unnamed columns
    /// being "column" and their number).
    /// </summary>
    public bool SkipHeader(string[] header)
    {
        if (!Fill(3))
        {
            return false;
        }

        ReadOnlySpan<byte> head = new(_buffer, _start, Math.Min(3, _filled - _start));
        if (head.Length >= 2 && (head[0] == 0xFE || head[0] == 0xFF || head[0] == 0x00 || head[1] == 0x00))
        {
            return false;
        }

        if (head.Length == 3 && head[0] == 0xEF && head[1] == 0xBB && head[2] == 0xBF)
        {
            _start += 3;
        }

        string?[] names = new string?[header.Length];
        if (!NextRow(header.Length, names, 0))
        {
            return false;
        }

        for (int i = 0; i < header.Length; i++)
        {
            string name = string.IsNullOrEmpty(names[i]) ? "column" + (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture) : names[i]!;
            if (!string.Equals(name, header[i], StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// The id of the next row when the row is plain and <paramref name="needsFields"/> turns it down, stepping
    /// past it; null, staying before the row, at the end of the file, when the row is one for CsvHelper, or
    /// when its fields are needed.
    /// </summary>
    [MethodImpl(JitOptions.Optimized)]
    public string? NextPassedRowId(int fieldCount, int idIndex, Func<string, bool> needsFields)
    {
        if (_values.Length != idIndex + 1)
        {
            _values = new string?[idIndex + 1];
        }

        _values[idIndex] = null;
        long start = RowStart;
        long breaks = LineBreaks;
        if (!NextRow(fieldCount, _values, idIndex) || _values[idIndex] is not string id || id.Trim().Length == 0 || needsFields(id))
        {
            Rewind(start, breaks);
            return null;
        }

        return id;
    }

    /// <summary>
    /// The fields of the next row when it is plain, stepping past it; null, staying before the row, at the end
    /// of the file or when the row is one for CsvHelper.
    /// </summary>
    [MethodImpl(JitOptions.Optimized)]
    public string?[]? NextRowFields(int fieldCount, int idIndex)
    {
        var values = new string?[fieldCount];
        long start = RowStart;
        long breaks = LineBreaks;
        if (!NextRow(fieldCount, values, 0) || values[idIndex]!.Trim().Length == 0)
        {
            Rewind(start, breaks);
            return null;
        }

        return values;
    }

    // Parses the row at _start: fills values[i] with field i for firstValue <= i < values.Length, checks that
    // it has exactly fieldCount fields, and steps past it. False (position unspecified) when it is not plain.
    [MethodImpl(JitOptions.Optimized)]
    private bool NextRow(int fieldCount, string?[] values, int firstValue)
    {
        while (true)
        {
            int length = ParseRow(new ReadOnlySpan<byte>(_buffer, _start, _filled - _start), _atEnd, fieldCount, values, firstValue, out int breaks);
            if (length > 0)
            {
                _start += length;
                LineBreaks += breaks;
                return true;
            }

            if (length < 0 || _atEnd)
            {
                return false;
            }

            // The row goes on past the buffer: make room, then read more.
            if (!Fill(_filled - _start + 1))
            {
                return false;
            }
        }
    }

    /// <summary>
    /// Hands the hash every byte before <see cref="RowStart"/> that it has not had yet, so that it holds the
    /// file's bytes up to the row the skipper stands before.
    /// </summary>
    public void HashPassedRows() => HashUpTo(RowStart);

    // Bytes up to `offset` (which must be in the buffer) go to the hash, those before it having gone already.
    private void HashUpTo(long offset)
    {
        if (_hash is not null && offset > _hashed)
        {
            _hash.TransformBlock(_buffer, (int)(_hashed - _bufferOffset), (int)(offset - _hashed), null, 0);
            _hashed = offset;
        }
    }

    private void Rewind(long offset, long breaks)
    {
        if (_hash is not null && offset < _hashed)
        {
            throw new InvalidOperationException("The row skipper cannot go back over bytes it has hashed.");
        }

        if (offset < _bufferOffset)
        {
            _stream.Position = offset;
            _bufferOffset = offset;
            _start = _filled = 0;
            _atEnd = false;
        }
        else
        {
            _start = (int)(offset - _bufferOffset);
        }

        LineBreaks = breaks;
    }

    // Makes at least `needed` bytes from _start available, unless the file ends first. False when none are.
    private bool Fill(int needed)
    {
        if (_filled - _start >= needed || _atEnd)
        {
            return _filled > _start;
        }

        if (_start > 0)
        {
            // The bytes before the row are passed for good.
            HashUpTo(_bufferOffset + _start);
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _filled - _start);
            _bufferOffset += _start;
            _filled -= _start;
            _start = 0;
        }

        if (needed > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(needed, _buffer.Length * 2));
        }

        while (_filled < needed)
        {
            int read = _stream.Read(_buffer, _filled, _buffer.Length - _filled);
            if (read == 0)
            {
                _atEnd = true;
                break;
            }

            _filled += read;
        }

        return _filled > _start;
    }

    /// <summary>
    /// Parses the row at the start of <paramref name="data"/>, decoding field i into values[i] for
    /// <paramref name="firstValue"/> &lt;= i &lt; values.Length. Returns the row's length with its line break, 0
    /// when <paramref name="data"/> ends inside it and more may come, or -1 when it is not plain (see the class).
    /// </summary>
    [MethodImpl(JitOptions.Optimized)]
    internal static int ParseRow(ReadOnlySpan<byte> data, bool atEnd, int fieldCount, string?[] values, int firstValue, out int lineBreaks)
    {
        lineBreaks = 0;
        if (data.IsEmpty)
        {
            return atEnd ? -1 : 0;
        }

        int pos = 0;
        for (int field = 0; ; field++)
        {
            if (field >= fieldCount)
            {
                return -1;
            }

            int end;
            int after;
            bool quoted = data[pos] == (byte)'"';
            if (quoted)
            {
                int close = pos + 1;
                while (true)
                {
                    int quote = data.Slice(close).IndexOf((byte)'"');
                    if (quote < 0)
                    {
                        return atEnd ? -1 : 0;
                    }

                    close += quote;
                    if (close + 1 == data.Length)
                    {
                        if (!atEnd)
                        {
                            return 0;
                        }

                        break;
                    }

                    if (data[close + 1] != (byte)'"')
                    {
                        break;
                    }

                    close += 2;
                }

                end = close;
                after = close + 1;
                lineBreaks += Count(data.Slice(pos + 1, end - pos - 1), (byte)'\n');
            }
            else
            {
                int stop = data.Slice(pos).IndexOfAny((byte)',', (byte)'\n', (byte)'\r');
                int quote = data.Slice(pos, stop < 0 ? data.Length - pos : stop).IndexOf((byte)'"');
                if (quote >= 0)
                {
                    return -1;
                }

                if (stop < 0)
                {
                    if (!atEnd)
                    {
                        return 0;
                    }

                    stop = data.Length - pos;
                }

                end = pos + stop;
                after = end;
            }

            if (field >= firstValue && field < values.Length)
            {
                values[field] = Text(data.Slice(quoted ? pos + 1 : pos, end - (quoted ? pos + 1 : pos)), quoted);
            }

            if (after == data.Length)
            {
                // The file ends with this field.
                return field + 1 == fieldCount && (field > 0 || end > pos) ? after : -1;
            }

            switch (data[after])
            {
                case (byte)',':
                    pos = after + 1;
                    if (pos == data.Length)
                    {
                        return atEnd ? -1 : 0;
                    }

                    continue;
                case (byte)'\n':
                    lineBreaks++;
                    return field + 1 == fieldCount && (field > 0 || end > pos) ? after + 1 : -1;
                case (byte)'\r':
                    if (after + 1 == data.Length)
                    {
                        return atEnd ? -1 : 0;
                    }

                    if (data[after + 1] != (byte)'\n')
                    {
                        return -1;
                    }

                    lineBreaks++;
                    return field + 1 == fieldCount && (field > 0 || end > pos) ? after + 2 : -1;
                default:
                    // Text after a closing quote.
                    return -1;
            }
        }
    }

    [MethodImpl(JitOptions.Optimized)]
    private static int Count(ReadOnlySpan<byte> data, byte value)
    {
        int count = 0;
        for (int at; (at = data.IndexOf(value)) >= 0; data = data.Slice(at + 1))
        {
            count++;
        }

        return count;
    }

    [MethodImpl(JitOptions.Optimized)]
    private static string Text(ReadOnlySpan<byte> bytes, bool quoted)
    {
        string text = Utf8Text.Decode(bytes);
        return quoted ? text.Replace("\"\"", "\"") : text;
    }
}
