using Grpc.Core;
using P2PRegistry.Contracts.Tracker;
using P2PRegistry.Core.MetaInfos;

namespace P2PRegistry.Tracker.Tests.InProcess;

public sealed class GrpcAnnounceTests : IAsyncLifetime
{
    private static readonly InfoHash s_swarm = InfoHash.Compute("grpc-swarm"u8);
    private TrackerHost _tracker = null!;

    public async Task InitializeAsync()
    {
        _tracker = await TrackerHost.StartAsync($"http://127.0.0.1:{TrackerHost.UnusedPort()}", TrackerHost.LoopbackTrusted);
        _tracker.Know(s_swarm);
    }

    public async Task DisposeAsync() => await _tracker.DisposeAsync();

    private static CallOptions Deadline => new(deadline: DateTime.UtcNow.AddSeconds(30));

    [Fact]
    public async Task Announce_ThreePeers_EachGetsTheOthersNotItself()
    {
        await _tracker.Client.AnnounceAsync(Announces.Request(s_swarm, 1), Deadline);
        await _tracker.Client.AnnounceAsync(Announces.Request(s_swarm, 2), Deadline);

        var response = await _tracker.Client.AnnounceAsync(Announces.Request(s_swarm, 3), Deadline);

        Assert.Equal(
            new HashSet<string> { "10.0.0.1:6001", "10.0.0.2:6002" },
            response.Peers.Select(p => $"{p.Ip}:{p.Port}").ToHashSet());
        Assert.DoesNotContain(response.Peers, p => p.PeerId == Announces.PeerId(3));
        Assert.Equal(2, response.IntervalSeconds);
        Assert.Equal(1, response.MinIntervalSeconds);
    }

    [Fact]
    public async Task Announce_MixedRoles_CompleteAgentsFirstOriginsLast()
    {
        await _tracker.Client.AnnounceAsync(Announces.Request(s_swarm, 1, role: PeerRole.Origin, complete: true), Deadline);
        await _tracker.Client.AnnounceAsync(Announces.Request(s_swarm, 2, complete: false), Deadline);
        await _tracker.Client.AnnounceAsync(Announces.Request(s_swarm, 3, complete: true), Deadline);
        await _tracker.Client.AnnounceAsync(Announces.Request(s_swarm, 4, role: PeerRole.Origin), Deadline);

        var response = await _tracker.Client.AnnounceAsync(Announces.Request(s_swarm, 9, complete: true), Deadline);

        Assert.Equal(4, response.Peers.Count);
        Assert.Equal(Announces.PeerId(3), response.Peers[0].PeerId);
        Assert.Equal(Announces.PeerId(2), response.Peers[1].PeerId);
        Assert.All(response.Peers.Skip(2), p => Assert.Equal(PeerRole.Origin, p.Role));
        Assert.All(response.Peers.Skip(2), p => Assert.True(p.Complete)); // an origin is always complete
        Assert.Equal(30, response.IntervalSeconds); // seeding
    }

    [Fact]
    public async Task Announce_Zones_SameZonePeersFirstThenTheOtherZone()
    {
        await _tracker.Client.AnnounceAsync(WithLabels(Announces.Request(s_swarm, 1), "b", ""), Deadline);
        await _tracker.Client.AnnounceAsync(WithLabels(Announces.Request(s_swarm, 2), "a", "r2"), Deadline);
        await _tracker.Client.AnnounceAsync(WithLabels(Announces.Request(s_swarm, 3), "a", "r1"), Deadline);

        var response = await _tracker.Client.AnnounceAsync(WithLabels(Announces.Request(s_swarm, 9), "a", "r1"), Deadline);

        Assert.Equal([Announces.PeerId(3), Announces.PeerId(2), Announces.PeerId(1)], response.Peers.Select(p => p.PeerId));
    }

    [Fact]
    public async Task Announce_LongZoneLabel_InvalidArgumentAndNotStored()
    {
        // 32 KiB: under the 64 KiB message limit (a megabyte never reaches the service: RESOURCE_EXHAUSTED).
        var attack = WithLabels(Announces.Request(s_swarm, 1), new string('z', 32 * 1024), "");

        var exception = await Assert.ThrowsAsync<RpcException>(() => _tracker.Client.AnnounceAsync(attack, Deadline).ResponseAsync);
        var response = await _tracker.Client.AnnounceAsync(Announces.Request(s_swarm, 2), Deadline);

        Assert.Equal(StatusCode.InvalidArgument, exception.StatusCode);
        Assert.StartsWith("zone is 32768 characters long", exception.Status.Detail, StringComparison.Ordinal);
        Assert.Empty(response.Peers);
    }

    [Fact]
    public async Task Announce_RackWithNewline_InvalidArgument()
    {
        var attack = WithLabels(Announces.Request(s_swarm, 1), "a", "r1\nforged log line");

        var exception = await Assert.ThrowsAsync<RpcException>(() => _tracker.Client.AnnounceAsync(attack, Deadline).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, exception.StatusCode);
        Assert.Contains("U+000A", exception.Status.Detail, StringComparison.Ordinal);
    }

    private static AnnounceRequest WithLabels(AnnounceRequest request, string zone, string rack)
    {
        request.Zone = zone;
        request.Rack = rack;
        return request;
    }

    [Fact]
    public async Task Announce_Stopped_RemovesPeerFromHandouts()
    {
        await _tracker.Client.AnnounceAsync(Announces.Request(s_swarm, 1), Deadline);
        await _tracker.Client.AnnounceAsync(Announces.Request(s_swarm, 2), Deadline);

        var stopped = await _tracker.Client.AnnounceAsync(Announces.Request(s_swarm, 1, announceEvent: AnnounceEvent.Stopped), Deadline);
        var response = await _tracker.Client.AnnounceAsync(Announces.Request(s_swarm, 3), Deadline);

        Assert.Empty(stopped.Peers);
        Assert.Equal(Announces.PeerId(2), Assert.Single(response.Peers).PeerId);
    }

    [Fact]
    public async Task Announce_NoIp_RecordsTheCallersAddress()
    {
        await _tracker.Client.AnnounceAsync(Announces.Request(s_swarm, 1, ip: ""), Deadline);

        var response = await _tracker.Client.AnnounceAsync(Announces.Request(s_swarm, 2), Deadline);

        Assert.Equal("127.0.0.1", Assert.Single(response.Peers).Ip);
    }

    [Fact]
    public async Task Announce_NumWant_LimitsHandout()
    {
        for (var i = 1; i <= 10; i++)
        {
            await _tracker.Client.AnnounceAsync(Announces.Request(s_swarm, i), Deadline);
        }

        var response = await _tracker.Client.AnnounceAsync(Announces.Request(s_swarm, 20, numWant: 3), Deadline);

        Assert.Equal(3, response.Peers.Count);
    }

    [Theory]
    [InlineData(5, 20, 6881)]
    [InlineData(20, 19, 6881)]
    [InlineData(20, 20, 0)]
    public async Task Announce_Malformed_IsInvalidArgument(int infoHashLength, int peerIdLength, int port)
    {
        var request = Announces.Request(s_swarm, 1);
        request.InfoHash = Google.Protobuf.ByteString.CopyFrom(new byte[infoHashLength]);
        request.PeerId = Google.Protobuf.ByteString.CopyFrom(new byte[peerIdLength]);
        request.Port = port;

        var ex = await Assert.ThrowsAsync<RpcException>(async () => await _tracker.Client.AnnounceAsync(request, Deadline));

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
    }
}
