using System.Diagnostics;
using P2PRegistry.Swarm.Tests.Pieces;
using P2PRegistry.Testing.Blobs;
using P2PRegistry.Testing.Fakes;
using P2PRegistry.Testing.FileSystem;
using P2PRegistry.Testing.Waiting;

namespace P2PRegistry.Swarm.Tests.Engine;

/// <summary>
/// A seed whose file rotted on disk (one byte flipped) over real sockets: with <see cref="SwarmOptions.VerifySeedsOnFirstRead"/>
/// the corrupt piece never leaves the seed, the seed stops seeding that blob and says so once; without it, the
/// downloader gets the piece, fails its SHA-1 and blacklists the seed.
/// </summary>
public sealed class SeedQuarantineTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Seed_CorruptPieceOnDisk_NeverSentSwarmStoppedAndSeedCorruptedRaisedOnce()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(1_500_000, 256 * 1024);
        var path = blob.WriteTo(dir.Path, "stored");
        FileDamage.FlipByte(path, (3 * 256 * 1024) + 77);
        var tracker = new FakeTracker();
        await using var seed = await TestNode.StartAsync(tracker);
        var raised = new List<SeedCorruption>();
        var first = new TaskCompletionSource<SeedCorruption>(TaskCreationOptions.RunContinuationsAsynchronously);
        seed.Engine.SeedCorrupted += corruption =>
        {
            lock (raised)
            {
                raised.Add(corruption);
            }

            first.TrySetResult(corruption);
        };
        seed.Engine.Seed(blob.MetaInfo, path);
        await using var leecher = await TestNode.StartAsync(tracker);

        var download = await leecher.Engine.StartDownloadAsync(blob.MetaInfo, dir.Combine("leech"));
        var corruption = await first.Task.WaitAsync(Timeout);

        Assert.Equal(new SeedCorruption(blob.MetaInfo.InfoHash, blob.MetaInfo.Digest, 3, path), corruption);
        await Eventually.AssertAsync(() => seed.Engine.GetStatistics(blob.MetaInfo.InfoHash) is null);
        Assert.Equal(0, download.VerifiedRunEnd(3)); // piece 3 never arrived
        Assert.False(download.IsComplete);
        Assert.Equal(0, leecher.Engine.BlacklistedCount); // nothing corrupt was sent
        lock (raised)
        {
            Assert.Single(raised);
        }
    }

    [Fact]
    public async Task Seed_CorruptPieceOnDiskNotVerifying_DownloaderGetsItAndBlacklistsTheSeed()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(1_500_000, 256 * 1024);
        var path = blob.WriteTo(dir.Path, "stored");
        FileDamage.FlipByte(path, (3 * 256 * 1024) + 77);
        var tracker = new FakeTracker();
        await using var seed = await TestNode.StartAsync(tracker, o => o.VerifySeedsOnFirstRead = false);
        var raised = 0;
        seed.Engine.SeedCorrupted += _ => Interlocked.Increment(ref raised);
        seed.Engine.Seed(blob.MetaInfo, path);
        await using var leecher = await TestNode.StartAsync(tracker);

        var download = await leecher.Engine.StartDownloadAsync(blob.MetaInfo, dir.Combine("leech"));
        await Eventually.AssertAsync(() => leecher.Engine.BlacklistedCount > 0);

        Assert.False(download.IsComplete);
        Assert.NotNull(seed.Engine.GetStatistics(blob.MetaInfo.InfoHash));
        Assert.Equal(0, Volatile.Read(ref raised));
    }
}
