using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Tracker.Admission;
using P2PRegistry.Tracker.Announcing;
using P2PRegistry.Tracker.Diagnostics;
using P2PRegistry.Tracker.Handout;
using P2PRegistry.Tracker.MetaInfos;
using P2PRegistry.Tracker.Peers;

namespace P2PRegistry.Tracker.Tests.OriginSeeds;

/// <summary>The tracker learns the origin as the seed of a swarm from the metainfo fetch (header X-P2P-Origin-Peer).</summary>
public sealed class OriginSeedHandoutTests : IDisposable
{
    private static readonly IPEndPoint s_origin = IPEndPoint.Parse("10.9.9.9:6881");
    private readonly TestMeterFactory _meters = new();
    private readonly FakeTimeProvider _time = new();
    private readonly MetaInfo _metaInfo = TestMetaInfos.Create();
    private readonly MetaInfoCache _cache = new(1 << 20);
    private readonly InMemoryPeerStore _store;
    private readonly AnnounceService _announcer;
    private readonly MetaInfoService _metaInfos;
    private readonly KnownInfoHashes _known = new(100);

    public OriginSeedHandoutTests()
    {
        var storeOptions = new PeerStoreOptions(TimeSpan.FromSeconds(90), 100, 100);
        _store = new InMemoryPeerStore(storeOptions, _time);
        var metrics = new TrackerMetrics(_meters, _store);
        var policy = new PeerHandoutPolicy(new HandoutSettings(3, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(1)));
        var client = new OriginMetaInfoClient(new HttpClient(new OriginHandler(_metaInfo, s_origin.ToString())) { BaseAddress = new Uri("http://origin.test/") });
        _metaInfos = new MetaInfoService(client, _cache, _known, metrics, TimeProvider.System, NullLogger<MetaInfoService>.Instance);
        _announcer = new AnnounceService(
            _store, policy, storeOptions, new AnnounceValidator([]), _metaInfos, _cache, loopbackQuotaExempt: true, new Random(7), metrics, NullLogger<AnnounceService>.Instance);
    }

    public void Dispose() => _meters.Dispose();

    [Fact]
    public async Task Announce_AfterMetaInfoFetch_OriginHandedOutLastAsCompleteOrigin()
    {
        await _metaInfos.GetAsync(_metaInfo.Digest, null, default);
        await Announce(1);

        var peers = await Announce(2);

        Assert.Equal(2, peers.Count);
        Assert.Equal(IPAddress.Parse("10.0.0.1"), peers[0].Address);
        Assert.True(peers[^1].IsAt(s_origin.Address, s_origin.Port));
        Assert.Equal(PeerRole.Origin, peers[^1].Role);
        Assert.True(peers[^1].Complete);
    }

    [Fact]
    public async Task Announce_FirstPeerOfSwarm_GetsTheOrigin()
    {
        await _metaInfos.GetAsync(_metaInfo.Digest, null, default);

        var peers = await Announce(1);

        Assert.True(Assert.Single(peers).IsAt(s_origin.Address, s_origin.Port));
    }

    [Fact]
    public async Task Announce_FullHandout_OriginTakesTheLastPlace()
    {
        await _metaInfos.GetAsync(_metaInfo.Digest, null, default);
        for (var i = 1; i <= 5; i++)
        {
            await Announce(i);
        }

        var peers = await Announce(9);

        Assert.Equal(3, peers.Count); // MaxPeers
        Assert.True(peers[^1].IsAt(s_origin.Address, s_origin.Port));
        Assert.All(peers.Take(2), p => Assert.Equal(PeerRole.Agent, p.Role));
    }

    [Fact]
    public async Task Announce_ClusterOfOrigins_FullHandout_BothReplicasTakeTheLastPlaces()
    {
        IPEndPoint[] replicas = [IPEndPoint.Parse("10.9.9.1:6881"), IPEndPoint.Parse("10.9.9.2:6881")];
        _cache.Add(_metaInfo, replicas);
        for (var i = 1; i <= 5; i++)
        {
            await Announce(i);
        }

        var peers = await Announce(9);

        Assert.Equal(3, peers.Count); // MaxPeers
        Assert.Equal(PeerRole.Agent, peers[0].Role);
        Assert.All(peers.Skip(1), p => Assert.Equal(PeerRole.Origin, p.Role));
        Assert.True(peers[^1].IsAt(replicas[0].Address, replicas[0].Port)); // the best-ranked owner last
        Assert.True(peers[^2].IsAt(replicas[1].Address, replicas[1].Port));
    }

    [Fact]
    public async Task Announce_LongAfterPeerTtl_OriginStillHandedOut()
    {
        await _metaInfos.GetAsync(_metaInfo.Digest, null, default);
        _time.Advance(TimeSpan.FromHours(6)); // many announce TTLs: the origin never announced, yet stays

        var peers = await Announce(1);

        Assert.True(Assert.Single(peers).IsAt(s_origin.Address, s_origin.Port));
    }

    [Fact]
    public async Task Announce_WithoutMetaInfoFetch_NoOrigin()
    {
        _known.Add(_metaInfo.InfoHash); // known (say, from an origin's announce) but its metainfo never fetched
        await Announce(1);

        Assert.Empty(await Announce(2).ContinueWith(t => t.Result.Where(p => p.Role == PeerRole.Origin).ToList()));
    }

    [Fact]
    public void Cache_MetaInfoEvicted_OriginPeerForgotten()
    {
        var cache = new MetaInfoCache(1);
        var other = TestMetaInfos.Create(length: 2 * 1024 * 1024);
        cache.Add(_metaInfo, s_origin);
        Assert.True(cache.TryGetOriginPeer(_metaInfo.InfoHash, out _));

        cache.Add(other); // over capacity: the older entry goes, with its origin peer

        Assert.False(cache.TryGetOriginPeer(_metaInfo.InfoHash, out _));
    }

    [Theory]
    [InlineData("127.0.0.1:6881", true)]
    [InlineData("[::1]:7000", true)]
    [InlineData("127.0.0.1:0", false)]
    [InlineData("0.0.0.0:6881", false)]
    [InlineData("origin.lab:6881", false)]
    [InlineData("", false)]
    public void ParseOriginPeer_AcceptsOnlyDialableLiteralEndPoints(string header, bool accepted) =>
        Assert.Equal(accepted, OriginMetaInfoClient.ParseOriginPeer(header) is not null);

    [Fact]
    public async Task Announce_FullHandoutWithZones_OriginLastAndTheRemotePeerKept()
    {
        await _metaInfos.GetAsync(_metaInfo.Digest, null, default);
        for (var i = 1; i <= 4; i++)
        {
            await Announce(i, "a");
        }

        await Announce(5, "b");

        var peers = await Announce(9, "a");

        // 3 places: one of zone a, the one of zone b (the kept share), the origin; the origin pushes out neither.
        Assert.Equal(3, peers.Count);
        Assert.Equal("a", peers[0].Locality.Zone);
        Assert.Equal("b", peers[1].Locality.Zone);
        Assert.True(peers[^1].IsAt(s_origin.Address, s_origin.Port));
    }

    [Fact]
    public async Task Announce_OriginZoneKnown_OtherZoneWithABridgeGetsNoOrigin()
    {
        var announcer = new AnnounceService(
            _store, new PeerHandoutPolicy(new HandoutSettings(3, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(1), OriginZone: "a")),
            new PeerStoreOptions(TimeSpan.FromSeconds(90), 100, 100), new AnnounceValidator([]), _metaInfos, _cache, loopbackQuotaExempt: true, new Random(7),
            new TrackerMetrics(_meters, _store), NullLogger<AnnounceService>.Instance);
        await _metaInfos.GetAsync(_metaInfo.Digest, null, default);
        await Announce(1, "a");
        await Announce(2, "b");

        var zoneB = await Announce(9, "b", announcer);
        var zoneA = await Announce(8, "a", announcer);

        // Zone b's agent reaches the origin's zone through agent 1 (a bridge), so not the origin itself; zone a's does.
        Assert.Equal(["b", "a"], zoneB.Select(p => p.Locality.Zone));
        Assert.DoesNotContain(zoneB, p => p.Role == PeerRole.Origin);
        Assert.True(zoneA[^1].IsAt(s_origin.Address, s_origin.Port));
    }

    [Fact]
    public async Task Announce_OriginZoneKnown_OtherZoneWithABridge_GetsAFullHandoutWithoutOrigin()
    {
        var announcer = new AnnounceService(
            _store, new PeerHandoutPolicy(new HandoutSettings(3, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(1), OriginZone: "a")),
            new PeerStoreOptions(TimeSpan.FromSeconds(90), 100, 100), new AnnounceValidator([]), _metaInfos, _cache, loopbackQuotaExempt: true, new Random(7),
            new TrackerMetrics(_meters, _store), NullLogger<AnnounceService>.Instance);
        await _metaInfos.GetAsync(_metaInfo.Digest, null, default);
        await Announce(1, "a");
        for (var i = 2; i <= 5; i++)
        {
            await Announce(i, "b");
        }

        var zoneB = await Announce(9, "b", announcer);

        // No origin for zone b (agent 1 bridges to zone a), so its place is a peer's: 3 of 3, the bridge among them.
        Assert.Equal(3, zoneB.Count);
        Assert.DoesNotContain(zoneB, p => p.Role == PeerRole.Origin);
        Assert.Contains(zoneB, p => p.Locality.Zone == "a");
    }

    [Fact]
    public async Task Announce_ClusterOfOriginsThatAnnounceThemselves_EachHandedOutOnceAndLastInRankOrder()
    {
        IPEndPoint[] replicas = [IPEndPoint.Parse("10.9.9.1:6881"), IPEndPoint.Parse("10.9.9.2:6881")];
        _cache.Add(_metaInfo, replicas);
        await AnnounceOrigin(replicas[0], 200);
        await AnnounceOrigin(replicas[1], 201);

        // Only the replicas in the swarm: their stored records would fit the place left; every handout must still end
        // with the replicas in rank order (the best last), each once. Repeated: the policy picks at random among equals.
        for (var round = 0; round < 20; round++)
        {
            var peers = await Announce(9);

            Assert.Equal(2, peers.Count); // everyone but the asker: both replicas
            Assert.True(peers[^2].IsAt(replicas[1].Address, replicas[1].Port));
            Assert.True(peers[^1].IsAt(replicas[0].Address, replicas[0].Port));
        }

        for (var i = 1; i <= 5; i++)
        {
            await Announce(i);
        }

        var full = await Announce(9);

        Assert.Equal(3, full.Count); // MaxPeers
        Assert.Equal(PeerRole.Agent, full[0].Role);
        Assert.True(full[^2].IsAt(replicas[1].Address, replicas[1].Port));
        Assert.True(full[^1].IsAt(replicas[0].Address, replicas[0].Port));
    }

    [Fact]
    public async Task Announce_AskerIsAnOriginOfTheCluster_GetsTheOtherReplicaButNeverItself()
    {
        IPEndPoint[] replicas = [IPEndPoint.Parse("10.9.9.1:6881"), IPEndPoint.Parse("10.9.9.2:6881")];
        _cache.Add(_metaInfo, replicas);
        await AnnounceOrigin(replicas[1], 201);
        for (var i = 1; i <= 5; i++)
        {
            await Announce(i);
        }

        var peers = await AnnounceOrigin(replicas[0], 200);

        Assert.Equal(3, peers.Count); // MaxPeers: two agents and the other replica
        Assert.All(peers.Take(2), p => Assert.Equal(PeerRole.Agent, p.Role));
        Assert.True(peers[^1].IsAt(replicas[1].Address, replicas[1].Port));
        Assert.DoesNotContain(peers, p => p.IsAt(replicas[0].Address, replicas[0].Port));
    }

    private async Task<IReadOnlyList<PeerRecord>> AnnounceOrigin(IPEndPoint endPoint, int n)
    {
        var id = new byte[20];
        id[0] = (byte)n;
        var claim = new AnnounceClaim(_metaInfo.InfoHash, new PeerId(id), null, endPoint.Port, PeerRole.Origin, true, 0, P2PRegistry.Tracker.Peers.AnnounceEvent.None, 0);
        var decision = await _announcer.AnnounceAsync(claim, new AnnouncerIdentity(endPoint.Address, IsOrigin: true), "grpc", default);
        Assert.False(decision.Refused, decision.Reason);
        return decision.Result.Peers;
    }

    private async Task<IReadOnlyList<PeerRecord>> Announce(int n, string zone = "", AnnounceService? announcer = null)
    {
        var id = new byte[20];
        id[0] = (byte)n;
        var claim = new AnnounceClaim(_metaInfo.InfoHash, new PeerId(id), null, 6000 + n, PeerRole.Agent, false, 100, P2PRegistry.Tracker.Peers.AnnounceEvent.None, 0)
        {
            Locality = PeerLocality.From(zone, null),
        };
        var decision = await (announcer ?? _announcer).AnnounceAsync(claim, new AnnouncerIdentity(IPAddress.Parse($"10.0.0.{n}"), IsOrigin: false), "grpc", default);
        Assert.False(decision.Refused, decision.Reason);
        return decision.Result.Peers;
    }

    private sealed class OriginHandler(MetaInfo metaInfo, string originPeer) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(metaInfo.Encoded.ToArray()) };
            response.Headers.Add(OriginMetaInfoClient.InfoHashHeader, metaInfo.InfoHash.ToHex());
            response.Headers.Add(OriginMetaInfoClient.OriginPeerHeader, originPeer);
            return Task.FromResult(response);
        }
    }
}
