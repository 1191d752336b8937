using P2PRegistry.Swarm;

namespace P2PRegistry.Integration.Tests.Swarm;

/// <summary>A tracker that dies mid-swarm: peers keep the connections they have and finish the download.</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class TrackerLossTests : IClassFixture<SwarmFixture>
{
    private readonly SwarmFixture _fixture;
    private readonly ITestOutputHelper _output;

    public TrackerLossTests(SwarmFixture fixture, ITestOutputHelper output)
    {
        _fixture = fixture;
        _output = output;
        fixture.Output.Attach(output);
    }

    [Fact]
    public async Task TrackerKilledMidSwarm_PeersDoNotCrash_DownloadsInProgressComplete()
    {
        var dir = _fixture.Directory.CreateSubdirectory("tracker-loss");
        var blob = SwarmBlob.Create(Path.Combine(dir, "pushed"), 32, seed: 4);
        await _fixture.PushAsync(blob);
        var (_, metaInfo) = await _fixture.FetchTorrentAsync(blob.Digest, Path.Combine(dir, "blob.torrent"));

        var peers = new List<SwarmPeer>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                // Slow enough (8 MiB/s each) that the downloads are still running when the tracker dies.
                peers.Add(await SwarmPeer.StartAsync(_fixture.Tracker.GrpcUrl, o => o.IngressBytesPerSecond = 8L * 1024 * 1024));
            }

            var downloads = await Task.WhenAll(peers.Select((p, i) => p.DownloadAsync(metaInfo, Path.Combine(dir, $"peer{i}"))));

            // Wait until every peer has found the others (and the origin), then kill the tracker (SIGKILL, by PID).
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (peers.Any(p => p.Statistics(metaInfo).DownloadedByPeer.Count < 2) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }

            Assert.All(downloads, d => Assert.False(d.Completion.IsCompleted, "a download finished before the tracker was stopped"));
            _fixture.Tracker.Process.Kill();
            await _fixture.Tracker.Process.WaitForExitAsync(TimeSpan.FromSeconds(10));
            var failuresAtKill = peers.Sum(p => p.Tracker.Failures);

            await Task.WhenAll(downloads.Select(d => d.Completion)).WaitAsync(TimeSpan.FromSeconds(60));

            for (var i = 0; i < peers.Count; i++)
            {
                Assert.Equal(blob.Digest, SwarmBlob.DigestOf(Path.Combine(dir, $"peer{i}")));
            }

            // The peers did try to announce to the dead tracker, and lived.
            Assert.True(peers.Sum(p => p.Tracker.Failures) > failuresAtKill, "no announce reached the dead tracker");
            _output.WriteLine($"announce failures after the kill: {peers.Sum(p => p.Tracker.Failures) - failuresAtKill}");
        }
        finally
        {
            foreach (var peer in peers)
            {
                await peer.DisposeAsync();
            }
        }
    }
}
