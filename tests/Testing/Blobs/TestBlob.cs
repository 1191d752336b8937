using P2PRegistry.Core.Content;
using P2PRegistry.Core.MetaInfos;

namespace P2PRegistry.Testing.Blobs;

/// <summary>Seeded random bytes with their digest and MetaInfo, for stores, swarms and agents under test.</summary>
/// <param name="content">The bytes.</param>
/// <param name="digest">What <paramref name="content"/> hashes to.</param>
/// <param name="metaInfo">The piece layout; a test may hand in one that lies about the content.</param>
public sealed class TestBlob(byte[] content, Digest digest, MetaInfo metaInfo)
{
    public byte[] Content { get; } = content;

    public Digest Digest { get; } = digest;

    public MetaInfo MetaInfo { get; } = metaInfo;

    public static TestBlob Create(int length, int pieceLength, int seed = 1)
    {
        var content = new byte[length];
        new Random(seed).NextBytes(content);
        using var hasher = new PieceHasher(pieceLength);
        hasher.Append(content);
        var digest = Digest.Compute(content);
        return new TestBlob(content, digest, MetaInfo.Create(digest, length, pieceLength, hasher.Complete()));
    }

    /// <summary><see cref="Create"/> for call sites that build their blobs among other awaited setup.</summary>
    public static Task<TestBlob> CreateAsync(int length, int pieceLength, int seed = 1) => Task.FromResult(Create(length, pieceLength, seed));

    public ReadOnlySpan<byte> Piece(int index) =>
        Content.AsSpan((int)MetaInfo.GetPieceOffset(index), MetaInfo.GetPieceSize(index));

    /// <summary>Writes the content to <paramref name="directory"/> (named by its digest's hex unless named) and returns the path.</summary>
    public string WriteTo(string directory, string? name = null)
    {
        var path = Path.Combine(directory, name ?? Digest.Hex);
        File.WriteAllBytes(path, Content);
        return path;
    }
}
