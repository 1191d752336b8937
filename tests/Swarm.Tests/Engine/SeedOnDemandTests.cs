using System.Net;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Testing.Blobs;
using P2PRegistry.Testing.Fakes;
using P2PRegistry.Testing.FileSystem;

namespace P2PRegistry.Swarm.Tests.Engine;

/// <summary>SwarmEngine.SeedResolver: a node in no swarm seeds a blob when a peer first handshakes for it (the origin's mode).</summary>
public sealed class SeedOnDemandTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Handshake_ForInfoHashTheResolverKnows_SeedsAndServesTheBlob()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(2_000_000, 256 * 1024);
        var path = blob.WriteTo(dir.Path, "stored");
        var tracker = new FakeTracker();
        await using var origin = await TestNode.StartAsync(tracker);
        var asked = new List<InfoHash>();
        origin.Engine.SeedResolver = infoHash =>
        {
            lock (asked)
            {
                asked.Add(infoHash);
            }

            return infoHash == blob.MetaInfo.InfoHash ? new SeedSource(blob.MetaInfo, path) : null;
        };
        Assert.Null(origin.Engine.GetStatistics(blob.MetaInfo.InfoHash)); // nothing opened up front
        tracker.AddPeer(blob.MetaInfo.InfoHash, new IPEndPoint(IPAddress.Loopback, origin.Port));
        await using var leecher = await TestNode.StartAsync(tracker);

        var download = await leecher.Engine.StartDownloadAsync(blob.MetaInfo, dir.Combine("leech"));
        await download.Completion.WaitAsync(Timeout);

        Assert.Equal(blob.Content, File.ReadAllBytes(dir.Combine("leech")));
        Assert.Equal(blob.MetaInfo.Length, origin.Engine.GetStatistics(blob.MetaInfo.InfoHash)!.BytesUploaded);
        Assert.Contains(blob.MetaInfo.InfoHash, asked);
    }

    [Fact]
    public async Task Handshake_ForInfoHashTheResolverDoesNotKnow_Refused()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(600_000, 256 * 1024);
        var tracker = new FakeTracker();
        await using var origin = await TestNode.StartAsync(tracker);
        origin.Engine.SeedResolver = _ => null;
        tracker.AddPeer(blob.MetaInfo.InfoHash, new IPEndPoint(IPAddress.Loopback, origin.Port));
        await using var leecher = await TestNode.StartAsync(tracker);

        var download = await leecher.Engine.StartDownloadAsync(blob.MetaInfo, dir.Combine("leech"));
        await Task.Delay(1500);

        Assert.False(download.Completion.IsCompleted);
        Assert.Null(origin.Engine.GetStatistics(blob.MetaInfo.InfoHash));
        Assert.Empty(download.Statistics.DownloadedByPeer);
    }

    [Fact]
    public async Task Handshake_ResolverPointsAtMissingFile_RefusedAndNodeStillServes()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(600_000, 256 * 1024);
        var tracker = new FakeTracker();
        await using var origin = await TestNode.StartAsync(tracker);
        var path = dir.Combine("not-yet");
        origin.Engine.SeedResolver = infoHash => infoHash == blob.MetaInfo.InfoHash ? new SeedSource(blob.MetaInfo, path) : null;
        tracker.AddPeer(blob.MetaInfo.InfoHash, new IPEndPoint(IPAddress.Loopback, origin.Port));
        await using var leecher = await TestNode.StartAsync(tracker);
        var download = await leecher.Engine.StartDownloadAsync(blob.MetaInfo, dir.Combine("leech"));
        await Task.Delay(1000);
        Assert.Null(origin.Engine.GetStatistics(blob.MetaInfo.InfoHash));

        blob.WriteTo(dir.Path, "not-yet"); // the file appears: the next handshake (after a re-announce) is served
        await download.Completion.WaitAsync(Timeout);

        Assert.Equal(blob.Content, File.ReadAllBytes(dir.Combine("leech")));
    }
}
