using System.Net;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using P2PRegistry.Contracts.Tracker;
using P2PRegistry.Core.Content;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Core.Wire;
using P2PRegistry.Swarm.Tracking;
using AnnounceEvent = P2PRegistry.Swarm.Tracking.AnnounceEvent;

namespace P2PRegistry.Swarm.Tests.Tracking;

/// <summary>GrpcTrackerClient against a real gRPC server (h2c on 127.0.0.1) whose answers each test scripts.</summary>
public sealed class GrpcTrackerClientTests : IAsyncLifetime
{
    private static readonly InfoHash s_infoHash = InfoHash.Compute("grpc-client"u8);
    private static readonly Digest s_digest = Digest.Compute("grpc-client"u8);
    private readonly ScriptedTracker _tracker = new();
    private WebApplication _app = null!;
    private Grpc.Net.Client.GrpcChannel _channel = null!;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(_tracker);
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http2));
        _app = builder.Build();
        _app.MapGrpcService<ScriptedTracker>();
        await _app.StartAsync();
        _channel = Grpc.Net.Client.GrpcChannel.ForAddress(_app.Urls.Single());
    }

    public async Task DisposeAsync()
    {
        _tracker.Release.TrySetResult();
        _channel.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private GrpcTrackerClient Client(TrackerRole role = TrackerRole.Agent, double timeoutSeconds = 5) =>
        new(new Contracts.Tracker.Tracker.TrackerClient(_channel), role, TimeSpan.FromSeconds(timeoutSeconds));

    private static Task<AnnounceResult> Announce(GrpcTrackerClient client, AnnounceEvent announceEvent = AnnounceEvent.Started) =>
        client.AnnounceAsync(s_infoHash, s_digest, PeerId.CreateRandom(), 7001, complete: false, bytesLeft: 1234, announceEvent, CancellationToken.None);

    [Fact]
    public async Task Announce_Answer_PeersMappedWithRoleAndInterval()
    {
        var agentId = new byte[20];
        agentId[0] = 7;
        _tracker.Answer = new AnnounceResponse
        {
            IntervalSeconds = 3,
            Peers =
            {
                new Peer { Ip = "127.0.0.2", Port = 6001, PeerId = ByteString.CopyFrom(agentId), Role = PeerRole.Agent },
                new Peer { Ip = "not an address", Port = 6002, Role = PeerRole.Agent },
                new Peer { Ip = "127.0.0.3", Port = 0, Role = PeerRole.Agent },
                new Peer { Ip = "127.0.0.9", Port = 6881, Role = PeerRole.Origin, Complete = true },
            },
        };

        var result = await Announce(Client());

        Assert.Equal(TimeSpan.FromSeconds(3), result.Interval);
        Assert.Equal(2, result.Peers.Count); // undialable peers are skipped
        Assert.Equal(IPEndPoint.Parse("127.0.0.2:6001"), result.Peers[0].EndPoint);
        Assert.Equal(new PeerId(agentId), result.Peers[0].PeerId);
        Assert.False(result.Peers[0].IsOrigin);
        Assert.Equal(IPEndPoint.Parse("127.0.0.9:6881"), result.Peers[1].EndPoint);
        Assert.Null(result.Peers[1].PeerId);
        Assert.True(result.Peers[1].IsOrigin);
    }

    [Theory]
    [InlineData(TrackerRole.Agent, PeerRole.Agent)]
    [InlineData(TrackerRole.Origin, PeerRole.Origin)]
    public async Task Announce_Request_CarriesRoleAndSwarmFields(TrackerRole role, PeerRole expected)
    {
        await Announce(Client(role), AnnounceEvent.Completed);

        var request = Assert.Single(_tracker.Requests);
        Assert.Equal(expected, request.Role);
        Assert.Equal(s_infoHash.ToArray(), request.InfoHash.ToByteArray());
        Assert.Equal(s_digest.Value, request.Digest);
        Assert.Equal(7001, request.Port);
        Assert.Equal(1234, request.BytesLeft);
        Assert.Equal(Contracts.Tracker.AnnounceEvent.Completed, request.Event);
    }

    [Fact]
    public async Task Announce_WithLabels_EveryRequestCarriesZoneAndRack()
    {
        var client = new GrpcTrackerClient(new Contracts.Tracker.Tracker.TrackerClient(_channel), TrackerRole.Agent, TimeSpan.FromSeconds(5), labels: new TopologyLabels("eu-west-1a", "r07"));

        await Announce(client, AnnounceEvent.Started);
        await Announce(client, AnnounceEvent.None);

        Assert.Equal(2, _tracker.Requests.Count);
        Assert.All(_tracker.Requests, r => Assert.Equal(("eu-west-1a", "r07"), (r.Zone, r.Rack)));
    }

    [Fact]
    public async Task Announce_WithoutLabels_SendsEmptyZoneAndRack()
    {
        await Announce(Client());

        var request = Assert.Single(_tracker.Requests);
        Assert.Equal((string.Empty, string.Empty), (request.Zone, request.Rack));
    }

    [Theory]
    [InlineData("zone a", null)]
    [InlineData(null, "-r1")]
    public void TopologyLabels_OutsideTheCharset_Throw(string? zone, string? rack) =>
        Assert.Throws<ArgumentException>(() => new TopologyLabels(zone, rack));

    [Fact]
    public async Task Announce_TrackerRefuses_TrackerExceptionWithStatus()
    {
        _tracker.Refusal = new RpcException(new Status(StatusCode.InvalidArgument, "port must be 1..65535"));

        var exception = await Assert.ThrowsAsync<TrackerException>(() => Announce(Client()));

        Assert.Contains("InvalidArgument", exception.Message, StringComparison.Ordinal);
        Assert.Contains("port must be", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Announce_TrackerHangs_TrackerExceptionAfterTheTimeout()
    {
        _tracker.Hang = true;

        var exception = await Assert.ThrowsAsync<TrackerException>(() => Announce(Client(timeoutSeconds: 0.3)).WaitAsync(TimeSpan.FromSeconds(30)));

        Assert.Contains("no answer within", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Announce_NoTrackerListening_TrackerException()
    {
        using var channel = Grpc.Net.Client.GrpcChannel.ForAddress($"http://127.0.0.1:{Testing.Networking.FreePort.Next()}");
        var client = new GrpcTrackerClient(new Contracts.Tracker.Tracker.TrackerClient(channel), TrackerRole.Agent, TimeSpan.FromSeconds(5));

        await Assert.ThrowsAsync<TrackerException>(() => Announce(client).WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task Announce_CallerCancels_OperationCanceled()
    {
        _tracker.Hang = true;
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            Client().AnnounceAsync(s_infoHash, s_digest, PeerId.CreateRandom(), 7001, false, 1, AnnounceEvent.None, cts.Token).WaitAsync(TimeSpan.FromSeconds(30)));
    }

    private sealed class ScriptedTracker : Contracts.Tracker.Tracker.TrackerBase
    {
        public List<AnnounceRequest> Requests { get; } = [];

        public AnnounceResponse Answer { get; set; } = new() { IntervalSeconds = 2 };

        public RpcException? Refusal { get; set; }

        public bool Hang { get; set; }

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override async Task<AnnounceResponse> Announce(AnnounceRequest request, ServerCallContext context)
        {
            lock (Requests)
            {
                Requests.Add(request);
            }

            if (Hang)
            {
                await Release.Task.WaitAsync(context.CancellationToken);
            }

            return Refusal is { } refusal ? throw refusal : Answer;
        }
    }
}
