using P2PRegistry.Agent.Tests.Support;
using P2PRegistry.Testing.Blobs;
using P2PRegistry.Testing.Fakes;
using P2PRegistry.Testing.FileSystem;
using P2PRegistry.Testing.Waiting;

namespace P2PRegistry.Agent.Tests.Blobs;

/// <summary>
/// A restarted agent seeds its cache without opening it: every cached blob is announced, none has a swarm open until a
/// peer asks; a swarm opened for a peer closes again after <c>Agent:IdleSeedTimeout</c> without traffic, still announced.
/// </summary>
public sealed class IdleSeedingTests : IDisposable
{
    private const int PieceLength = 64 * 1024;

    private readonly TempDirectory _dir = new("agent-idle-seed");
    private readonly FakeTracker _tracker = new();
    private readonly FakeMetaInfoSource _metaInfos = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Restart_CachedBlobs_AnnouncedClosedOpenedForAPeerThenClosedWhenIdle()
    {
        var blobs = Enumerable.Range(0, 5).Select(i => TestBlob.Create((3 * PieceLength) + i, PieceLength, seed: 40 + i)).ToList();
        foreach (var blob in blobs)
        {
            blob.InstallInto(_dir.Combine("seed"));
            _metaInfos.Add(blob.MetaInfo);
        }

        await using var seed = await TestAgent.StartAsync(_dir.Combine("seed"), _metaInfos, _tracker, settings: "--Agent:IdleSeedTimeout=00:00:01");
        await Eventually.AssertAsync(() => blobs.All(b => _tracker.Seeds(b.MetaInfo.InfoHash) == 1));
        Assert.Equal(0, seed.Engine.OpenSwarmCount);
        Assert.Equal(5, seed.Engine.SeededBlobCount);

        // A peer agent asks for one: the seed's swarm for it opens at the handshake and serves it.
        await using var peer = await TestAgent.StartAsync(_dir.Combine("peer"), _metaInfos, _tracker, settings: "--Agent:MissTimeout=00:00:05");
        var bytes = await peer.Client.GetByteArrayAsync($"/v2/test/img/blobs/{blobs[2].Digest}");
        Assert.Equal(blobs[2].Content, bytes);
        var downloaded = peer.Engine.GetStatistics(blobs[2].MetaInfo.InfoHash)!;
        Assert.Equal(blobs[2].MetaInfo.Length, downloaded.BytesDownloaded);
        Assert.Equal(blobs[2].MetaInfo.Length, downloaded.DownloadedByPeer[seed.Engine.PeerId]);

        // Idle for a second: closed again; every blob still seeded and announced, none "stopped".
        // The count drops before the closing run writes its log line, so wait for both.
        await Eventually.AssertAsync(() => seed.Engine.OpenSwarmCount == 0
            && seed.Logs.Entries.Any(e => e.Category == "P2PRegistry.Swarm.SwarmEngine" && e.Id.Id == 25));
        Assert.Equal(5, seed.Engine.SeededBlobCount);
        Assert.Equal(1, peer.Engine.SeededBlobCount);
        Assert.Equal(1, peer.Engine.OpenSwarmCount); // its own timeout is the default 10 min
        Assert.Equal(0, _tracker.Stopped(blobs[2].MetaInfo.InfoHash));
        Assert.Equal(2, _tracker.Seeds(blobs[2].MetaInfo.InfoHash));
    }
}
