using BenchmarkDotNet.Attributes;
using P2PRegistry.Core.Content;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Swarm.Pieces;

namespace P2PRegistry.Benchmarks;

/// <summary>
/// What durability costs a download: a 64 MiB blob written as the swarm writes it (whole 256 KiB pieces, direct I/O
/// where the file system allows it, each marked verified), with the data file flushed (fsync) and the resume file
/// replaced atomically every <see cref="FlushEveryPieces"/> pieces (0: never, as before flushes existed; 1: one flush per
/// piece; 256: one per 64 MiB, the default <c>Swarm:ResumeFlushBytes</c>). Runs in the temp folder: its file system
/// decides what an fsync costs, so compare rows of one run only.
/// </summary>
[MemoryDiagnoser]
public class PieceFlushBenchmarks
{
    private const int BlobBytes = 64 << 20;
    private const int PieceBytes = 256 << 10;
    private byte[] _blob = [];
    private MetaInfo _metaInfo = null!;
    private string _dir = "";
    private PieceStore? _store;

    [Params(0, 1, 16, 256)]
    public int FlushEveryPieces { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _blob = new byte[BlobBytes];
        new Random(7).NextBytes(_blob);
        _metaInfo = MetaInfo.ComputeAsync(Digest.Compute(_blob), new MemoryStream(_blob), BlobBytes, PieceBytes).GetAwaiter().GetResult();
        _dir = Directory.CreateTempSubdirectory("p2preg-bench-flush-").FullName;
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_dir, recursive: true);

    [IterationSetup]
    public void OpenFresh()
    {
        var path = Path.Combine(_dir, "download");
        File.Delete(path);
        File.Delete(path + PieceStore.BitfieldSuffix);
        _store = PieceStore.OpenForDownload(_metaInfo, path, directIo: true, hotPieceBytes: 0, flushBytes: long.MaxValue, flushInterval: TimeSpan.MaxValue);
    }

    [IterationCleanup]
    public void Close()
    {
        // The close flushes what waits: outside the measurement, like the flushes a download never reaches.
        _store?.Dispose();
    }

    [Benchmark]
    public int WriteBlob64MiBInPieces()
    {
        var store = _store!;
        for (var piece = 0; piece < _metaInfo.PieceCount; piece++)
        {
            store.Write(piece, 0, _blob.AsSpan(piece * PieceBytes, PieceBytes));
            store.MarkVerified(piece);
            if (FlushEveryPieces > 0 && (piece + 1) % FlushEveryPieces == 0)
            {
                store.Flush();
            }
        }

        return store.VerifiedCount;
    }
}
