using System.Diagnostics;
using System.Net;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using P2PRegistry.Contracts.Tracker;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Testing.Fakes;
using P2PRegistry.Testing.Http;
using P2PRegistry.Testing.Peers;
using P2PRegistry.Tracker.Peers;
using Xunit.Abstractions;
using PeerRole = P2PRegistry.Contracts.Tracker.PeerRole;

namespace P2PRegistry.Tracker.Tests.InProcess;

/// <summary>
/// Attacks on the announce, each performed against the real tracker over HTTP (BEP 3) or gRPC, from distinct
/// 127.0.0.x source addresses (Linux routes all of 127/8 to lo: each x is another host to the tracker).
/// </summary>
public sealed class AnnounceAttackTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly IPAddress s_agent = Loopback.Address(2);
    private static readonly IPAddress s_attacker = Loopback.Address(3);
    private readonly List<IDisposable> _disposables = [];
    private FakeOrigin _origin = null!;
    private MetaInfo _metaInfo = null!;

    public async Task InitializeAsync()
    {
        _origin = await FakeOrigin.StartAsync();
        _metaInfo = TestMetaInfos.Create();
        _origin.Serve(_metaInfo);
    }

    public async Task DisposeAsync()
    {
        foreach (var disposable in _disposables)
        {
            disposable.Dispose();
        }

        await _origin.DisposeAsync();
    }

    private static CallOptions Deadline => new(deadline: DateTime.UtcNow.AddSeconds(30));

    private static byte[] PeerId(string prefix, int n)
    {
        var id = new byte[20];
        System.Text.Encoding.ASCII.GetBytes(prefix).CopyTo(id, 0);
        BitConverter.TryWriteBytes(id.AsSpan(16), n);
        return id;
    }

    /// <summary>A tracker whose origin serves <see cref="_metaInfo"/>, fetched once so its info hash is known.</summary>
    private async Task<TrackerHost> StartTrackerAsync(params string[] args)
    {
        var tracker = await TrackerHost.StartAsync(_origin.Url, args);
        await tracker.Client.GetMetaInfoAsync(new GetMetaInfoRequest { Digest = _metaInfo.Digest.Value }, Deadline);
        return tracker;
    }

    private HttpClient From(TrackerHost tracker, IPAddress source)
    {
        var client = SourceAddressHandler.Client(source, new Uri($"http://{tracker.HttpEndPoint}/"));
        _disposables.Add(client);
        return client;
    }

    private Contracts.Tracker.Tracker.TrackerClient GrpcFrom(TrackerHost tracker, IPAddress source)
    {
        var channel = GrpcChannel.ForAddress($"http://{tracker.GrpcEndPoint}", new GrpcChannelOptions { HttpHandler = SourceAddressHandler.Create(source) });
        _disposables.Add(channel);
        return new Contracts.Tracker.Tracker.TrackerClient(channel);
    }

    private static PeerStoreStatistics Statistics(TrackerHost tracker) => tracker.Services.GetRequiredService<IPeerStore>().GetStatistics();

    [Fact]
    public async Task HttpAnnounce_SpoofedIp_IsRefusedAndNeverHandedOut()
    {
        await using var tracker = await StartTrackerAsync();

        var spoofed = await Bep3Announces.GetAsync(From(tracker, s_attacker), _metaInfo.InfoHash, PeerId("-XX0001-", 1), "&port=6881&left=0&ip=10.66.0.1");
        var real = await Bep3Announces.GetAsync(From(tracker, s_agent), _metaInfo.InfoHash, PeerId("-AG0001-", 1), "&port=6882&left=100");

        Assert.Contains("ip 10.66.0.1", Bep3Announces.Failure(spoofed));
        Assert.Null(Bep3Announces.Failure(real));
        Assert.Empty(Bep3Announces.CompactPeers(real));
        Assert.Equal(1, Statistics(tracker).Peers);
    }

    [Fact]
    public async Task GrpcAnnounce_SpoofedIp_IsPermissionDenied()
    {
        await using var tracker = await StartTrackerAsync();
        var request = Announces.Request(_metaInfo.InfoHash, 1, ip: "10.66.0.1");

        var ex = await Assert.ThrowsAsync<RpcException>(async () => await GrpcFrom(tracker, s_attacker).AnnounceAsync(request, Deadline));

        Assert.Equal(StatusCode.PermissionDenied, ex.StatusCode);
        Assert.Equal(0, Statistics(tracker).Peers);
    }

    [Fact]
    public async Task HttpAnnounce_StoppedOrMovedWithAnothersPeerId_IsRefusedAndTheAgentStays()
    {
        await using var tracker = await StartTrackerAsync();
        var agentId = PeerId("-AG0001-", 1);
        await Bep3Announces.GetAsync(From(tracker, s_agent), _metaInfo.InfoHash, agentId, "&port=6882&left=100&event=started");

        var stop = await Bep3Announces.GetAsync(From(tracker, s_attacker), _metaInfo.InfoHash, agentId, "&port=6882&left=100&event=stopped");
        var move = await Bep3Announces.GetAsync(From(tracker, s_attacker), _metaInfo.InfoHash, agentId, "&port=9999&left=0");
        var third = await Bep3Announces.GetAsync(From(tracker, Loopback.Address(4)), _metaInfo.InfoHash, PeerId("-AG0001-", 3), "&port=6883&left=100");

        Assert.Contains("peer_id", Bep3Announces.Failure(stop));
        Assert.Contains("peer_id", Bep3Announces.Failure(move));
        Assert.Equal([new IPEndPoint(s_agent, 6882)], Bep3Announces.CompactPeers(third));

        // The owner itself still may.
        var ownStop = await Bep3Announces.GetAsync(From(tracker, s_agent), _metaInfo.InfoHash, agentId, "&port=6882&left=100&event=stopped");
        Assert.Null(Bep3Announces.Failure(ownStop));
        Assert.Equal(1, Statistics(tracker).Peers);
    }

    [Fact]
    public async Task GrpcAnnounce_SelfDeclaredOrigin_IsPermissionDeniedAndNotListed()
    {
        await using var tracker = await StartTrackerAsync();
        var claim = Announces.Request(_metaInfo.InfoHash, 1, role: PeerRole.Origin, complete: true, ip: "");

        var ex = await Assert.ThrowsAsync<RpcException>(async () => await GrpcFrom(tracker, s_attacker).AnnounceAsync(claim, Deadline));
        var agent = await GrpcFrom(tracker, s_agent).AnnounceAsync(Announces.Request(_metaInfo.InfoHash, 2, ip: ""), Deadline);

        Assert.Equal(StatusCode.PermissionDenied, ex.StatusCode);
        Assert.DoesNotContain(agent.Peers, p => p.Ip == s_attacker.ToString());
    }

    [Fact]
    public async Task GrpcAnnounce_OriginFromOriginNetworks_IsListedAsOriginAndMakesItsInfoHashKnown()
    {
        await using var tracker = await StartTrackerAsync($"--Tracker:OriginNetworks:0={s_attacker}/32");
        var unfetched = InfoHash.Compute("only the origin knows"u8);

        await GrpcFrom(tracker, s_attacker).AnnounceAsync(Announces.Request(unfetched, 1, role: PeerRole.Origin, ip: ""), Deadline);
        var agent = await GrpcFrom(tracker, s_agent).AnnounceAsync(Announces.Request(unfetched, 2, ip: ""), Deadline);

        var origin = Assert.Single(agent.Peers);
        Assert.Equal(PeerRole.Origin, origin.Role);
        Assert.Equal(s_attacker.ToString(), origin.Ip);
    }

    [Fact]
    public async Task Announce_UnknownInfoHash_IsRefusedWithoutCreatingASwarm()
    {
        await using var tracker = await StartTrackerAsync();
        var unknown = InfoHash.Compute("no origin holds this"u8);

        var http = await Bep3Announces.GetAsync(From(tracker, s_attacker), unknown, PeerId("-XX0001-", 1), "&port=6881&left=0&event=started");
        var grpc = await Assert.ThrowsAsync<RpcException>(async () =>
            await GrpcFrom(tracker, s_attacker).AnnounceAsync(Announces.Request(unknown, 2, ip: ""), Deadline));

        Assert.Contains("unknown info_hash", Bep3Announces.Failure(http));
        Assert.Equal(StatusCode.NotFound, grpc.StatusCode);
        Assert.Equal(new PeerStoreStatistics(0, 0), Statistics(tracker));
    }

    [Fact]
    public async Task GrpcAnnounce_UnknownInfoHashWithItsDigest_AsksTheOriginAndIsAccepted()
    {
        // Our agents name the blob: a tracker that forgot (or never fetched) the metainfo asks the origin.
        var other = TestMetaInfos.Create();
        _origin.Serve(other);
        await using var tracker = await StartTrackerAsync();
        var request = Announces.Request(other.InfoHash, 1, ip: "");
        request.Digest = other.Digest.Value;

        await GrpcFrom(tracker, s_agent).AnnounceAsync(request, Deadline);

        Assert.Equal(1, Statistics(tracker).Peers);
    }

    [Theory]
    [InlineData("224.0.0.1")]
    [InlineData("0.0.0.0")]
    [InlineData("255.255.255.255")]
    public async Task HttpAnnounce_UndialableIp_IsRefusedEvenFromATrustedProxy(string ip)
    {
        await using var tracker = await StartTrackerAsync("--Tracker:TrustedProxyNetworks:0=127.0.0.0/8");

        var trusted = await Bep3Announces.GetAsync(From(tracker, s_attacker), _metaInfo.InfoHash, PeerId("-XX0001-", 1), $"&port=6881&left=0&ip={ip}");
        var untrusted = await Bep3Announces.GetAsync(From(tracker, s_attacker), _metaInfo.InfoHash, PeerId("-XX0001-", 2), "&port=6881&left=0&ip=10.1.1.1");

        Assert.Contains("cannot be dialled", Bep3Announces.Failure(trusted));
        Assert.Null(Bep3Announces.Failure(untrusted)); // the trusted proxy may name another (dialable) address
        Assert.Equal(1, Statistics(tracker).Peers);
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("224.0.0.1")]
    public async Task HttpAnnounce_LoopbackOrMulticastIpFromUntrustedSource_IsRefused(string ip)
    {
        await using var tracker = await StartTrackerAsync();

        var answer = await Bep3Announces.GetAsync(From(tracker, s_attacker), _metaInfo.InfoHash, PeerId("-XX0001-", 1), $"&port=6881&left=0&ip={ip}");

        Assert.NotNull(Bep3Announces.Failure(answer));
        Assert.Equal(0, Statistics(tracker).Peers);
    }

    [Fact]
    public async Task HttpAnnounce_OneAddressManyPeerIds_QuotaRefusesTheRestAndRealAgentsGetIn()
    {
        await using var tracker = await StartTrackerAsync(
            "--Tracker:LoopbackQuotaExempt=false", "--Tracker:MaxPeersPerAddressPerSwarm=2", "--Tracker:MaxPeersPerSwarm=5");
        var attacker = From(tracker, s_attacker);

        var refusals = 0;
        for (var i = 0; i < 10; i++)
        {
            var answer = await Bep3Announces.GetAsync(attacker, _metaInfo.InfoHash, PeerId("-XX0001-", i), $"&port={7000 + i}&left=0");
            refusals += Bep3Announces.Failure(answer) is { } failure && failure.Contains("maximum", StringComparison.Ordinal) ? 1 : 0;
        }

        var agents = new List<IReadOnlyList<IPEndPoint>>();
        for (byte x = 4; x <= 6; x++)
        {
            var answer = await Bep3Announces.GetAsync(From(tracker, Loopback.Address(x)), _metaInfo.InfoHash, PeerId("-AG0001-", x), "&port=6881&left=100");
            Assert.Null(Bep3Announces.Failure(answer));
            agents.Add(Bep3Announces.CompactPeers(answer));
        }

        Assert.Equal(8, refusals);
        Assert.Equal(5, Statistics(tracker).Peers); // the swarm's cap: 2 of the attacker's, 3 real agents
        Assert.Contains(new IPEndPoint(Loopback.Address(4), 6881), agents[2]);
        Assert.Contains(new IPEndPoint(Loopback.Address(5), 6881), agents[2]);
    }

    [Fact]
    public async Task HttpAnnounce_OneAddressAcrossSwarms_CappedByItsQuota()
    {
        await using var tracker = await StartTrackerAsync("--Tracker:LoopbackQuotaExempt=false", "--Tracker:MaxPeersPerAddress=3");
        var swarms = Enumerable.Range(0, 5).Select(i => InfoHash.Compute(BitConverter.GetBytes(i))).ToList();
        swarms.ForEach(tracker.Know);
        var attacker = From(tracker, s_attacker);

        var failures = new List<string?>();
        foreach (var swarm in swarms)
        {
            failures.Add(Bep3Announces.Failure(await Bep3Announces.GetAsync(attacker, swarm, PeerId("-XX0001-", 1), "&port=6881&left=0")));
        }

        var real = await Bep3Announces.GetAsync(From(tracker, s_agent), swarms[4], PeerId("-AG0001-", 1), "&port=6881&left=100");

        Assert.Equal(3, failures.Count(f => f is null));
        Assert.All(failures.Skip(3), f => Assert.Contains("maximum of 3 peers", f));
        Assert.Null(Bep3Announces.Failure(real));
        Assert.Equal(new PeerStoreStatistics(4, 4), Statistics(tracker)); // no swarm left behind by a refusal
    }

    [Fact]
    public async Task HttpAnnounce_FloodOf2000Spoofed_AllRefusedOrCappedAndARealAgentGetsOnlyRealPeers()
    {
        await using var tracker = await StartTrackerAsync("--Tracker:LoopbackQuotaExempt=false");
        var attacker = From(tracker, s_attacker);

        // Half name fake endpoints with ip=, half claim fresh peer ids from the attacker's own address; all left=0
        // (seeds, which a downloader would dial first). Eight at a time, as a small botnet would.
        var watch = Stopwatch.StartNew();
        var failures = new int[2000];
        await Parallel.ForEachAsync(Enumerable.Range(0, 2000), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
        {
            var ip = i % 2 == 0 ? $"&ip=10.{66 + (i >> 16)}.{(i >> 8) & 0xFF}.{i & 0xFF}" : "";
            var answer = await Bep3Announces.GetAsync(attacker, _metaInfo.InfoHash, PeerId("-XX0001-", i), $"&port={10000 + i}&left=0&event=started{ip}");
            failures[i] = Bep3Announces.Failure(answer) is null ? 0 : 1;
        });
        watch.Stop();
        output.WriteLine($"2000 spoofed announces answered in {watch.Elapsed.TotalSeconds:0.00} s; {failures.Sum()} refused.");

        var real = await Bep3Announces.GetAsync(From(tracker, s_agent), _metaInfo.InfoHash, PeerId("-AG0001-", 1), "&port=6881&left=100&event=started");

        Assert.Null(Bep3Announces.Failure(real));
        var handedOut = Bep3Announces.CompactPeers(real);
        Assert.All(handedOut, peer => Assert.Equal(s_attacker, peer.Address)); // nothing at a made-up address
        Assert.InRange(handedOut.Count, 1, 4); // the attacker's own address, at most Tracker:MaxPeersPerAddressPerSwarm
        Assert.Equal(2000 - handedOut.Count, failures.Sum());
        var metrics = await tracker.Http.GetStringAsync("metrics");
        Assert.Contains("reason=\"untrusted_ip\"", metrics);
        Assert.Contains("reason=\"swarm_address_quota\"", metrics);
    }
}
