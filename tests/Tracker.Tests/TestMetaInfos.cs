using System.Security.Cryptography;
using P2PRegistry.Core.Content;
using P2PRegistry.Core.MetaInfos;

namespace P2PRegistry.Tracker.Tests;

internal static class TestMetaInfos
{
    /// <summary>The metainfo of some random bytes (1 MiB in 256 KiB pieces by default), hashed for real.</summary>
    public static MetaInfo Create(int length = 1024 * 1024, int pieceLength = 256 * 1024)
    {
        var content = RandomNumberGenerator.GetBytes(length);
        var digest = Digest.Compute(content);
        var pieceCount = MetaInfo.CountPieces(length, pieceLength);
        var hashes = new byte[pieceCount * InfoHash.Length];
        for (var i = 0; i < pieceCount; i++)
        {
            var start = i * pieceLength;
            SHA1.HashData(content.AsSpan(start, Math.Min(pieceLength, length - start)), hashes.AsSpan(i * InfoHash.Length));
        }

        return MetaInfo.Create(digest, length, pieceLength, hashes);
    }
}
