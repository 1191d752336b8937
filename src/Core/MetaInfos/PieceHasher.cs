using System.Security.Cryptography;

namespace P2PRegistry.Core.MetaInfos;

/// <summary>
/// Computes the SHA-1 of every piece of a stream of bytes as they arrive, for a fixed piece length.
/// Not thread-safe; one instance per stream.
/// </summary>
public sealed class PieceHasher : IDisposable
{
    private readonly IncrementalHash _sha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
    private readonly MemoryStream _pieces = new();
    private long _inPiece;

    public PieceHasher(int pieceLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pieceLength, 1);
        PieceLength = pieceLength;
    }

    public int PieceLength { get; }

    public long Length { get; private set; }

    public void Append(ReadOnlySpan<byte> data)
    {
        Length += data.Length;
        while (!data.IsEmpty)
        {
            var take = (int)Math.Min(data.Length, PieceLength - _inPiece);
            _sha1.AppendData(data[..take]);
            _inPiece += take;
            data = data[take..];
            if (_inPiece == PieceLength)
            {
                FinishPiece();
            }
        }
    }

    /// <summary>Ends the stream: the last, possibly short, piece is hashed; returns 20 bytes per piece.</summary>
    public byte[] Complete()
    {
        if (_inPiece > 0)
        {
            FinishPiece();
        }

        return _pieces.ToArray();
    }

    public void Dispose()
    {
        _sha1.Dispose();
        _pieces.Dispose();
    }

    private void FinishPiece()
    {
        Span<byte> hash = stackalloc byte[InfoHash.Length];
        _sha1.GetHashAndReset(hash);
        _pieces.Write(hash);
        _inPiece = 0;
    }
}
