using System.Diagnostics;
using P2PRegistry.Testing;
using P2PRegistry.Testing.Blobs;
using P2PRegistry.Testing.Fakes;
using P2PRegistry.Testing.FileSystem;
using Xunit.Abstractions;

namespace P2PRegistry.Swarm.Tests.Engine;

/// <summary>
/// One seed to one leecher over loopback. Asserts correctness only and reports the rate (speed belongs
/// in benchmarks); <c>P2P_SWARM_THROUGHPUT_MIB</c> raises the size (default 64 MiB keeps the suite fast).
/// </summary>
public sealed class ThroughputTests(ITestOutputHelper output)
{
    [Fact]
    [Trait("Category", TestCategories.Slow)]
    public async Task Download_OneSeedOneLeecherLoopback_ReportsRate()
    {
        var mib = int.TryParse(Environment.GetEnvironmentVariable("P2P_SWARM_THROUGHPUT_MIB"), out var m) && m > 0 ? m : 64;
        using var dir = new TempDirectory();
        var pieceLength = P2PRegistry.Core.MetaInfos.PieceLength.For((long)mib * 1024 * 1024);
        var blob = TestBlob.Create(mib * 1024 * 1024, pieceLength);
        var tracker = new FakeTracker();
        await using var seed = await TestNode.StartAsync(tracker);
        await using var leecher = await TestNode.StartAsync(tracker);
        seed.Engine.Seed(blob.MetaInfo, blob.WriteTo(dir.Path, "seed"));

        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        var download = await leecher.Engine.StartDownloadAsync(blob.MetaInfo, dir.Combine("leech"));
        var pieces = Enumerable.Range(0, blob.MetaInfo.PieceCount).Select(i => download.WaitForPieceAsync(i, CancellationToken.None)).ToArray();
        await Task.WhenAny(pieces);
        var firstPiece = clock.Elapsed;
        await Task.WhenAll(pieces).WaitAsync(TimeSpan.FromMinutes(5));
        var allPieces = clock.Elapsed;
        await download.Completion.WaitAsync(TimeSpan.FromMinutes(5));
        clock.Stop();
        output.WriteLine($"first piece verified after {firstPiece.TotalMilliseconds:F0} ms, all pieces after {allPieces.TotalMilliseconds:F0} ms, digest checked after {clock.Elapsed.TotalMilliseconds:F0} ms");
        var cpuUsed = Process.GetCurrentProcess().TotalProcessorTime - cpu;

        Assert.Equal(blob.MetaInfo.Length, download.Statistics.BytesDownloaded);
        output.WriteLine($"{mib} MiB in {pieceLength / 1024} KiB pieces: {clock.Elapsed.TotalSeconds:F2} s, {mib / clock.Elapsed.TotalSeconds:F0} MiB/s, CPU {cpuUsed.TotalSeconds:F2} s ({cpuUsed / clock.Elapsed:P0} of one core, both ends and the digest check)");
    }
}
