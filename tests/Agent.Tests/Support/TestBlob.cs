using P2PRegistry.Core.Content;
using P2PRegistry.Core.MetaInfos;

namespace P2PRegistry.Agent.Tests.Support;

internal sealed record TestBlob(byte[] Content, Digest Digest, MetaInfo MetaInfo)
{
    public static async Task<TestBlob> CreateAsync(int length, int pieceLength, int seed = 1)
    {
        var content = new byte[length];
        new Random(seed).NextBytes(content);
        var digest = Digest.Compute(content);
        using var stream = new MemoryStream(content);
        var metaInfo = await MetaInfo.ComputeAsync(digest, stream, length, pieceLength);
        return new TestBlob(content, digest, metaInfo);
    }

    /// <summary>Puts the blob into an agent's data folder as a finished download would (cache file and MetaInfo).</summary>
    public void InstallInto(string dataPath, byte[]? actualContent = null)
    {
        Directory.CreateDirectory(Path.Combine(dataPath, "cache", "sha256"));
        Directory.CreateDirectory(Path.Combine(dataPath, "metainfo"));
        File.WriteAllBytes(Path.Combine(dataPath, "cache", "sha256", Digest.Hex), actualContent ?? Content);
        File.WriteAllBytes(Path.Combine(dataPath, "metainfo", Digest.Hex), MetaInfo.Encoded.ToArray());
    }
}
