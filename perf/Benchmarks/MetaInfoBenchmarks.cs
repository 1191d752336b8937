using BenchmarkDotNet.Attributes;
using P2PRegistry.Core.Bencoding;
using P2PRegistry.Core.Content;
using P2PRegistry.Core.MetaInfos;

namespace P2PRegistry.Benchmarks;

/// <summary>Bencoding the metainfo of a typical blob (1 GiB at 1 MiB pieces: 1024 piece hashes, ~20 KiB).</summary>
[MemoryDiagnoser]
public class MetaInfoBenchmarks
{
    private const long BlobLength = 1L << 30;
    private const int Piece = 1 << 20;
    private readonly Digest _digest = Digest.Compute("benchmark"u8);
    private byte[] _pieceHashes = [];
    private byte[] _encoded = [];

    [GlobalSetup]
    public void Setup()
    {
        _pieceHashes = new byte[MetaInfo.CountPieces(BlobLength, Piece) * InfoHash.Length];
        new Random(2).NextBytes(_pieceHashes);
        _encoded = MetaInfo.Create(_digest, BlobLength, Piece, _pieceHashes).Encoded.ToArray();
    }

    /// <summary>Encode and info-hash (SHA-1 over the ~20 KiB dictionary).</summary>
    [Benchmark]
    public InfoHash Encode() => MetaInfo.Create(_digest, BlobLength, Piece, _pieceHashes).InfoHash;

    /// <summary>Strict decode, validation and re-encode check.</summary>
    [Benchmark]
    public InfoHash Decode() => MetaInfo.Decode(_encoded).InfoHash;

    /// <summary>Just the bencode parse, no metainfo validation.</summary>
    [Benchmark]
    public int BencodeDecode() => ((BencodeDictionary)BencodeDecoder.Decode(_encoded)).Entries.Count;
}
