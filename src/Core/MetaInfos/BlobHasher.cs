using System.Security.Cryptography;
using P2PRegistry.Core.Content;

namespace P2PRegistry.Core.MetaInfos;

/// <summary>
/// The sha256 of a whole blob and, when its piece length is known up front, the SHA-1 of each piece: both from one
/// pass over the bytes as they arrive, so a blob streamed into a store is never read back to be hashed. Not
/// thread-safe; one instance per stream.
/// </summary>
public sealed class BlobHasher : IDisposable
{
    private readonly IncrementalHash _sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly PieceHasher? _pieces;

    /// <param name="pieceLength">The blob's piece length; null hashes the blob only (no MetaInfo).</param>
    public BlobHasher(int? pieceLength)
    {
        _pieces = pieceLength is { } length ? new PieceHasher(length) : null;
    }

    public long Length { get; private set; }

    public void Append(ReadOnlySpan<byte> data)
    {
        _sha256.AppendData(data);
        _pieces?.Append(data);
        Length += data.Length;
    }

    /// <summary>The sha256 of everything appended (call once, at the end).</summary>
    public Digest ComputeDigest()
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        _sha256.GetHashAndReset(hash);
        return Digest.FromSha256(hash);
    }

    /// <summary>The MetaInfo of the appended bytes under <paramref name="digest"/>; null when no piece length was given.</summary>
    public MetaInfo? CreateMetaInfo(Digest digest) =>
        _pieces is null ? null : MetaInfo.Create(digest, Length, _pieces.PieceLength, _pieces.Complete());

    public void Dispose()
    {
        _sha256.Dispose();
        _pieces?.Dispose();
    }
}
