using P2PRegistry.Core.Wire;
using P2PRegistry.Swarm.Tests.Engine;
using P2PRegistry.Testing.Blobs;
using P2PRegistry.Testing.Fakes;
using P2PRegistry.Testing.FileSystem;

namespace P2PRegistry.Swarm.Tests.Attacks;

/// <summary>A cancel flood against a seed (issue 15): alone in its collection, so the heap it measures is its own.</summary>
[Collection(nameof(CancelFloodTests))]
[CollectionDefinition(nameof(CancelFloodTests), DisableParallelization = true)]
public sealed class CancelFloodTests
{
    [Fact]
    public async Task CancelFlood_MillionCancelsThatMatchNothing_HeapFlatAndRequestsStillServed()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(4 * 256 * 1024, 256 * 1024);
        await using var seed = await TestNode.StartAsync(new FakeTracker());
        seed.Engine.Seed(blob.MetaInfo, blob.WriteTo(dir.Path, "seed"));
        await using var attacker = await PeerAttackTests.UnchokedAsync(seed, blob);
        var before = Heap();

        // Every (piece, begin) differs: a set of cancelled blocks would hold them all.
        var sent = 0;
        for (uint begin = 0; sent < 1_000_000; begin += 16)
        {
            sent += await attacker.SendCancelFloodAsync(10_000, PeerAttackTests.Timeout, index: (uint)(sent % 4), begin: begin % (256 * 1024), length: 16);
        }

        await attacker.SendRequestAsync(1, 16384, 16384);
        var piece = await attacker.WaitForAsync(m => m.Type == PeerMessageType.Piece, PeerAttackTests.Timeout);
        Assert.NotNull(piece);
        Assert.False(attacker.RemoteClosed);
        var growth = Heap() - before;
        Assert.True(growth < 16 * 1024 * 1024, $"the seed's heap grew by {growth:N0} bytes over {sent:N0} cancels");
    }

    private static long Heap()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        return GC.GetGCMemoryInfo(GCKind.FullBlocking).HeapSizeBytes;
    }
}
