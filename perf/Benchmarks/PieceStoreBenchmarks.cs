using BenchmarkDotNet.Attributes;
using P2PRegistry.Core.Content;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Swarm.Pieces;

namespace P2PRegistry.Benchmarks;

/// <summary>
/// Piece-store throughput on the download path: a 64 MiB blob written as a peer receives it (16 KiB blocks
/// at their offsets in a preallocated file, each piece then marked verified), and the seeding path (16 KiB block
/// reads). Divide 64 MiB by the mean time for MB/s. Measures the page cache path with no flush: what the flushes
/// before the resume file records pieces cost is <see cref="PieceFlushBenchmarks"/>.
/// </summary>
[MemoryDiagnoser]
public class PieceStoreBenchmarks
{
    private const int BlobBytes = 64 << 20;
    private const int PieceBytes = 256 << 10;
    private const int BlockBytes = 16 << 10;
    private byte[] _blob = [];
    private readonly byte[] _block = new byte[BlockBytes];
    private MetaInfo _metaInfo = null!;
    private string _dir = "";
    private PieceStore? _store;
    private PieceStore? _complete;

    [GlobalSetup]
    public void Setup()
    {
        _blob = new byte[BlobBytes];
        new Random(5).NextBytes(_blob);
        _metaInfo = MetaInfo.ComputeAsync(Digest.Compute(_blob), new MemoryStream(_blob), BlobBytes, PieceBytes).GetAwaiter().GetResult();
        _dir = Directory.CreateTempSubdirectory("p2preg-bench-store-").FullName;
        var completePath = Path.Combine(_dir, "complete");
        File.WriteAllBytes(completePath, _blob);
        _complete = PieceStore.OpenComplete(_metaInfo, completePath);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _complete?.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [IterationSetup(Target = nameof(WriteBlob64MiBIn16KiBBlocks))]
    public void OpenFresh()
    {
        var path = Path.Combine(_dir, "download");
        File.Delete(path);
        File.Delete(path + PieceStore.BitfieldSuffix);
        _store = PieceStore.OpenForDownload(_metaInfo, path);
    }

    [IterationCleanup(Target = nameof(WriteBlob64MiBIn16KiBBlocks))]
    public void CloseFresh() => _store?.Dispose();

    [Benchmark]
    public int WriteBlob64MiBIn16KiBBlocks()
    {
        var store = _store!;
        for (var piece = 0; piece < _metaInfo.PieceCount; piece++)
        {
            var pieceOffset = piece * PieceBytes;
            for (var offset = 0; offset < PieceBytes; offset += BlockBytes)
            {
                store.Write(piece, offset, _blob.AsSpan(pieceOffset + offset, BlockBytes));
            }

            store.MarkVerified(piece);
        }

        return store.VerifiedCount;
    }

    [Benchmark]
    public int ReadBlob64MiBIn16KiBBlocks()
    {
        var total = 0;
        for (var piece = 0; piece < _metaInfo.PieceCount; piece++)
        {
            for (var offset = 0; offset < PieceBytes; offset += BlockBytes)
            {
                total += _complete!.Read(piece, offset, _block);
            }
        }

        return total;
    }
}
