using System;
using System.IO;
using System.Security.Cryptography;

namespace Checkpoint.IO;

/// <summary>
/// A read-only stream that hashes every byte read through it, so a dataset is parsed and fingerprinted in
/// one pass. Disposing it leaves the inner stream open.
/// </summary>
internal sealed class HashingReadStream : Stream
{
    private readonly Stream _inner;
    private readonly HashAlgorithm _hash;

    public HashingReadStream(Stream inner, HashAlgorithm hash)
    {
        _inner = inner;
        _hash = hash;
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => _inner.Length;

    public override long Position
    {
        get => _inner.Position;
        set => throw new NotSupportedException();
    }

    /// <summary>Reads what is left of the inner stream and returns the hash of every byte.</summary>
    public byte[] Finish()
    {
        byte[] rest = new byte[81920];
        while (Read(rest, 0, rest.Length) > 0)
        {
        }

        _hash.TransformFinalBlock(Array.Empty<byte>(), 0, 0);
        return _hash.Hash!;
    }

    public override int Read(byte[] buffer, int offset, int count)
    {
        int read = _inner.Read(buffer, offset, count);
        if (read > 0)
        {
            _hash.TransformBlock(buffer, offset, read, null, 0);
        }

        return read;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
