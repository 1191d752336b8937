using P2PRegistry.Core.Content;
using P2PRegistry.Core.MetaInfos;

namespace P2PRegistry.Swarm.Tests;

/// <summary>Random bytes with their metainfo, for stores and swarms under test.</summary>
internal sealed class TestBlob
{
    private TestBlob(byte[] content, MetaInfo metaInfo)
    {
        Content = content;
        MetaInfo = metaInfo;
    }

    public byte[] Content { get; }

    public MetaInfo MetaInfo { get; }

    public static TestBlob Create(int length, int pieceLength, int seed = 1)
    {
        var content = new byte[length];
        new Random(seed).NextBytes(content);
        using var hasher = new PieceHasher(pieceLength);
        hasher.Append(content);
        var metaInfo = MetaInfo.Create(Digest.Compute(content), length, pieceLength, hasher.Complete());
        return new TestBlob(content, metaInfo);
    }

    public ReadOnlySpan<byte> Piece(int index) =>
        Content.AsSpan((int)MetaInfo.GetPieceOffset(index), MetaInfo.GetPieceSize(index));

    public string WriteTo(string directory, string? name = null)
    {
        var path = Path.Combine(directory, name ?? MetaInfo.Digest.Hex);
        File.WriteAllBytes(path, Content);
        return path;
    }
}

/// <summary>A temp folder deleted at the end of a test.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = Directory.CreateTempSubdirectory("p2pswarm-").FullName;
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
