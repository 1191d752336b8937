using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using P2PRegistry.Core.MetaInfos;

namespace P2PRegistry.Benchmarks;

/// <summary>
/// Hashing throughput: SHA-1 checks every piece a peer receives, SHA-256 the whole blob. Divide the bytes
/// by the mean time for MB/s (1 MiB for the per-piece benchmarks, 64 MiB for PieceHasher).
/// </summary>
[MemoryDiagnoser]
public class HashingBenchmarks
{
    private const int PieceBytes = 1 << 20;
    private const int BlobBytes = 64 << 20;
    private readonly byte[] _hash = new byte[32];
    private byte[] _blob = [];

    [GlobalSetup]
    public void Setup()
    {
        _blob = new byte[BlobBytes];
        new Random(3).NextBytes(_blob);
    }

    [Benchmark]
    public byte Sha1Piece1MiB()
    {
        SHA1.HashData(_blob.AsSpan(0, PieceBytes), _hash);
        return _hash[0];
    }

    [Benchmark]
    public byte Sha256Piece1MiB()
    {
        SHA256.HashData(_blob.AsSpan(0, PieceBytes), _hash);
        return _hash[0];
    }

    /// <summary>All pieces of a 64 MiB blob at 256 KiB pieces, fed in 1 MiB reads as MetaInfo.ComputeAsync does.</summary>
    [Benchmark]
    public int PieceHasher64MiB()
    {
        using var hasher = new PieceHasher(256 * 1024);
        for (var offset = 0; offset < BlobBytes; offset += PieceBytes)
        {
            hasher.Append(_blob.AsSpan(offset, PieceBytes));
        }

        return hasher.Complete().Length;
    }

    /// <summary>The blob's sha256 digest over the same 64 MiB, for comparison.</summary>
    [Benchmark]
    public byte Sha256Blob64MiB()
    {
        SHA256.HashData(_blob, _hash);
        return _hash[0];
    }
}
