using System.Net;
using Grpc.Net.Client;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Core.Wire;
using P2PRegistry.Integration.Tests.Agent;
using P2PRegistry.Swarm.Tracking;

namespace P2PRegistry.Integration.Tests.Swarm;

/// <summary>
/// Locality end to end: real Origin, Tracker and Agent processes on loopback, the agents started with
/// <c>--Agent:Zone</c>/<c>--Agent:Rack</c>; the handout the real tracker gives an agent of zone a (asked through
/// <see cref="GrpcTrackerClient"/> with labels, as an agent asks) lists its rack, then its zone, then exactly its kept
/// share of zone b (the same peer on every announce), then the origin.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class LocalityTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Handout_AgentsInTwoZones_SameRackThenSameZoneFirst_OtherZoneKeptToItsShare()
    {
        using var directory = new TempDirectory("locality");
        await using var origin = await OriginProcess.StartAsync(new OriginOptions { OnOutputLine = output.WriteLine });
        // 4 places: with the origin last, 3 for agents, of which round(0.2 × 3) → at least 1 kept for zone b.
        await using var tracker = await TrackerProcess.StartAsync(origin.BaseAddress, output.WriteLine, "--Tracker:MaxPeersHandedOut=4");
        var blob = SwarmBlob.Create(Path.Combine(directory.Path, "pushed"), 4, seed: 20);
        using (var registry = new RegistryClient(origin.BaseAddress))
        {
            Assert.Equal(HttpStatusCode.Created, await registry.UploadFileAsync("locality/blobs", blob.Path, blob.Digest.Value));
        }

        (string Name, string Zone, string Rack)[] layout = [("a1", "a", "r1"), ("a2", "a", "r2"), ("b1", "b", "r1"), ("b2", "b", "r1"), ("b3", "b", "r2")];
        var agents = new List<(string Name, string Zone, string Rack, int PeerPort, AgentProcess Process)>();
        try
        {
            foreach (var (name, zone, rack) in layout)
            {
                var peerPort = FreePort.Next();
                var process = await AgentProcess.StartAsync("locality-" + name, tracker.GrpcUrl, origin.BaseAddress, output.WriteLine,
                    $"--Agent:PeerPort={peerPort}", $"--Agent:Zone={zone}", $"--Agent:Rack={rack}", "--Agent:MissTimeout=00:00:10");
                agents.Add((name, zone, rack, peerPort, process));
            }

            // Every agent pulls the blob: it joins the swarm, and stays in it as a seed.
            await Task.WhenAll(agents.Select(async a =>
            {
                using var http = new HttpClient { BaseAddress = a.Process.BaseAddress, Timeout = Timeout };
                var bytes = await http.GetByteArrayAsync($"/v2/locality/blobs/{blob.Digest}");
                Assert.Equal(blob.Length, bytes.Length);
            })).WaitAsync(Timeout);

            var metaInfo = await FetchMetaInfoAsync(origin.BaseAddress, blob.Digest.Value);
            var zoneOf = agents.ToDictionary(a => a.PeerPort, a => (a.Name, a.Zone, a.Rack));
            using var channel = GrpcChannel.ForAddress(tracker.GrpcUrl);
            var stub = new Contracts.Tracker.Tracker.TrackerClient(channel);

            // An agent of zone a, rack r1 (a new peer of the swarm), announcing as agents do: 10 times.
            var askerA = new GrpcTrackerClient(stub, TrackerRole.Agent, TimeSpan.FromSeconds(10), labels: new TopologyLabels("a", "r1"));
            var peerId = PeerId.CreateRandom();
            var askerPort = FreePort.Next();
            var remoteChosen = new HashSet<string>();
            for (var i = 0; i < 10; i++)
            {
                var result = await askerA.AnnounceAsync(metaInfo.InfoHash, blob.Digest, peerId, askerPort, complete: false, bytesLeft: blob.Length,
                    i == 0 ? AnnounceEvent.Started : AnnounceEvent.None, default);
                var names = result.Peers.Select(p => p.IsOrigin ? "origin" : zoneOf[p.EndPoint.Port].Name).ToList();
                output.WriteLine($"[test] handout {i} to zone a / rack r1: {string.Join(", ", names)}");

                Assert.Equal(4, result.Peers.Count);
                Assert.Equal("a1", names[0]); // same rack
                Assert.Equal("a2", names[1]); // same zone
                Assert.Equal("b", zoneOf[result.Peers[2].EndPoint.Port].Zone); // the kept share of the other zone: one of three
                Assert.True(result.Peers[3].IsOrigin);
                remoteChosen.Add(names[2]);
            }

            // The kept remote peer is this asker's bridge: the same on every announce, so it does not end up connected to all of zone b.
            Assert.Single(remoteChosen);

            // The first asker is a peer of the swarm now too (zone a, incomplete): it may be the zone-a bridge below.
            zoneOf[askerPort] = ("askerA", "a", "r1");

            // An agent of zone b with no rack gets zone b's peers first, and still one of zone a.
            var askerB = new GrpcTrackerClient(stub, TrackerRole.Agent, TimeSpan.FromSeconds(10), labels: new TopologyLabels("b", null));
            var resultB = await askerB.AnnounceAsync(metaInfo.InfoHash, blob.Digest, PeerId.CreateRandom(), FreePort.Next(), complete: false, bytesLeft: blob.Length, AnnounceEvent.Started, default);
            var zonesB = resultB.Peers.Where(p => !p.IsOrigin).Select(p => zoneOf[p.EndPoint.Port].Zone).ToList();
            output.WriteLine($"[test] handout to zone b: {string.Join(", ", zonesB)}");
            Assert.Equal(["b", "b", "a"], zonesB);
            Assert.True(resultB.Peers[^1].IsOrigin);
        }
        finally
        {
            foreach (var agent in agents)
            {
                await agent.Process.DisposeAsync();
            }
        }
    }

    private static async Task<MetaInfo> FetchMetaInfoAsync(Uri origin, string digest)
    {
        using var http = new HttpClient();
        return MetaInfo.Decode(await http.GetByteArrayAsync(new Uri(origin, "/p2p/v1/metainfo/" + digest)));
    }
}
