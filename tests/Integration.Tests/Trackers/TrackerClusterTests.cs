using System.Diagnostics;
using Google.Protobuf;
using Grpc.Net.Client;
using P2PRegistry.Core.Content;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Testing.Waiting;

namespace P2PRegistry.Integration.Tests.Trackers;

/// <summary>
/// Three trackers on one Redis and eight agents that know all three, as processes: a tracker killed mid-swarm, Redis
/// restarted, a fourth tracker added through the agents' settings file — no pull fails.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class TrackerClusterTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int AgentCount = 8;
    private TrackerCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await TrackerCluster.StartAsync(Log, trackers: 3, agents: AgentCount);

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task BlobsTrackerKilledMidSwarm_EveryPullCompletesThroughTheOthers()
    {
        var (blob, metaInfo) = await _cluster.PushAsync(32, seed: 201);
        var ranked = _cluster.RankFor(metaInfo.Digest);
        var victim = ranked[0];

        // Paced (4 MiB/s into each agent) so the swarm is still running when its tracker dies.
        var pulls = _cluster.Agents.Select(a => TrackerCluster.PullAsync(a, blob.Digest)).ToList();
        await Eventually.AssertAsync(async () => await TrackerCluster.MetricAsync(victim.HttpUrl, "p2pregistry_tracker_announces_total") >= AgentCount, "every agent to announce to the blob's tracker", timeout: TimeSpan.FromSeconds(90));
        victim.Process.Kill();
        output.WriteLine($"[test] killed {victim.GrpcUrl}, the blob's tracker; {pulls.Count(p => p.IsCompleted)} pulls had finished");

        var digests = await Task.WhenAll(pulls).WaitAsync(TimeSpan.FromMinutes(2));

        Assert.All(digests, d => Assert.Equal(blob.Digest, d));
        var failovers = 0.0;
        var fromPeers = 0.0;
        foreach (var agent in _cluster.Agents)
        {
            failovers += await TrackerCluster.MetricAsync(agent.BaseAddress, "p2pregistry_agent_tracker_failures_total");
            fromPeers += await TrackerCluster.MetricAsync(agent.BaseAddress, "p2pregistry_agent_bytes_from_peers_bytes_total");
        }

        // The agents did go on to the next tracker, which knew the swarm (Redis): they kept finding each other.
        Assert.True(failovers > 0, "no agent failed over from the killed tracker");
        Assert.True(await TrackerCluster.MetricAsync(ranked[1].HttpUrl, "p2pregistry_tracker_announces_total") > 0, "the next tracker in the ring got no announce");
        Assert.True(fromPeers > 0, "no bytes came from other agents: the swarm did not form");
        output.WriteLine($"[test] tracker failures seen by agents: {failovers}; bytes from peers: {fromPeers}");
    }

    [Fact]
    public async Task RedisRestartedDuringASwarm_PeersAreListedAgainWithinAnAnnounceInterval()
    {
        var (blob, metaInfo) = await _cluster.PushAsync(8, seed: 202);
        var digests = await Task.WhenAll(_cluster.Agents.Select(a => TrackerCluster.PullAsync(a, blob.Digest)));
        Assert.All(digests, d => Assert.Equal(blob.Digest, d));
        var tracker = _cluster.Trackers[0];
        using var probe = new TrackerProbe(tracker.GrpcUrl, metaInfo.InfoHash, blob.Digest);
        await Eventually.AssertAsync(async () => await probe.PeersAsync() >= AgentCount, "every agent to be listed as a seed", timeout: TimeSpan.FromSeconds(90));

        _cluster.Redis.Kill();
        await Eventually.AssertAsync(async () => await ReadyAsync(tracker) == System.Net.HttpStatusCode.ServiceUnavailable, "the tracker to be unready without Redis", timeout: TimeSpan.FromSeconds(90));
        await _cluster.Redis.RestartAsync();
        var restarted = Stopwatch.StartNew();
        await Eventually.AssertAsync(async () => await ReadyAsync(tracker) == System.Net.HttpStatusCode.OK, "the tracker to be ready again", timeout: TimeSpan.FromSeconds(90));

        // The new Redis is empty: the swarm comes back as its seeds announce again (each within an announce interval).
        await Eventually.AssertAsync(async () => await probe.PeersAsync() >= AgentCount, "the seeds to be listed again", timeout: TimeSpan.FromSeconds(90));
        var recovered = restarted.Elapsed;
        output.WriteLine($"[test] all {AgentCount} seeds listed again {recovered.TotalSeconds:0.0} s after Redis restarted (announce interval {TrackerCluster.AnnounceInterval.TotalSeconds} s)");
        // One interval, plus the reconnect (≤ 2 s back-off) and one announce that may have failed just before it.
        Assert.True(recovered <= 2 * TrackerCluster.AnnounceInterval + TimeSpan.FromSeconds(5), $"recovery took {recovered}");

        // And a new blob pulls through the recovered cluster.
        var (second, _) = await _cluster.PushAsync(4, seed: 203);
        Assert.All(await Task.WhenAll(_cluster.Agents.Select(a => TrackerCluster.PullAsync(a, second.Digest))), d => Assert.Equal(second.Digest, d));
    }

    [Fact]
    public async Task FourthTrackerAddedToTheSettingsFile_AgentsUseItAndNoPullFails()
    {
        var fourth = await _cluster.AddTrackerAsync();
        var fourthUrl = fourth.GrpcUrl.GetLeftPart(UriPartial.Authority).ToLowerInvariant();
        _cluster.WriteSettings();
        await Eventually.AssertAsync(
            () => Task.FromResult(_cluster.AgentOutput.Values.All(lines => lines.Any(l => l.Contains("Trackers: ", StringComparison.Ordinal) && l.Contains(fourthUrl, StringComparison.Ordinal)))),
            "every agent to reload its tracker list", timeout: TimeSpan.FromSeconds(90));

        // A blob whose rendezvous tracker is the new one (about one in four is): the agents must go there.
        (Swarm.SwarmBlob Blob, MetaInfo MetaInfo)? chosen = null;
        for (var seed = 300; seed < 340 && chosen is null; seed++)
        {
            var pushed = await _cluster.PushAsync(1, seed);
            if (_cluster.RankFor(pushed.MetaInfo.Digest)[0] == fourth)
            {
                chosen = pushed;
            }
        }

        Assert.True(chosen is not null, "no blob of 40 ranked the fourth tracker first");
        var blob = chosen.Value.Blob;
        var digests = await Task.WhenAll(_cluster.Agents.Select(a => TrackerCluster.PullAsync(a, blob.Digest)));

        Assert.All(digests, d => Assert.Equal(blob.Digest, d));
        Assert.True(await TrackerCluster.MetricAsync(fourth.HttpUrl, "p2pregistry_tracker_announces_total") >= AgentCount, "the fourth tracker did not get the blob's announces");
        foreach (var agent in _cluster.Agents)
        {
            Assert.Equal(0, await TrackerCluster.MetricAsync(agent.BaseAddress, "p2pregistry_agent_tracker_failures_total"));
        }
    }

    private static async Task<System.Net.HttpStatusCode> ReadyAsync(Swarm.TrackerProcess tracker)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var response = await http.GetAsync(new Uri(tracker.HttpUrl, "/readyz"));
        return response.StatusCode;
    }

    private void Log(string name, string line)
    {
        try
        {
            output.WriteLine($"[{name}] {line}");
        }
        catch (InvalidOperationException)
        {
            // Output after the test ended.
        }
    }

    /// <summary>Asks a tracker for a swarm's peers as a peer that is not in it (a STARTED with num_want, then a STOPPED).</summary>
    private sealed class TrackerProbe(Uri grpcUrl, InfoHash infoHash, Digest digest) : IDisposable
    {
        private readonly GrpcChannel _channel = GrpcChannel.ForAddress(grpcUrl);
        private readonly ByteString _peerId = ByteString.CopyFrom(P2PRegistry.Core.Wire.PeerId.CreateRandom().ToArray());

        public async Task<int> PeersAsync()
        {
            var client = new Contracts.Tracker.Tracker.TrackerClient(_channel);
            var request = new Contracts.Tracker.AnnounceRequest
            {
                InfoHash = ByteString.CopyFrom(infoHash.ToArray()),
                Digest = digest.Value,
                PeerId = _peerId,
                Port = 1,
                BytesLeft = 1,
                NumWant = 200,
            };
            try
            {
                var response = await client.AnnounceAsync(request, deadline: DateTime.UtcNow.AddSeconds(10));
                // Agents only: the probe itself and the origin (handed out last) are not the swarm's seeds.
                return response.Peers.Count(p => p.Role == Contracts.Tracker.PeerRole.Agent && p.Port != 1);
            }
            catch (Grpc.Core.RpcException)
            {
                return 0; // Redis away: UNAVAILABLE
            }
        }

        public void Dispose() => _channel.Dispose();
    }
}
