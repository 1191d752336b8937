using System.Buffers;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using P2PRegistry.Core.Wire;
using P2PRegistry.Swarm.Bandwidth;
using P2PRegistry.Swarm.Tests.Engine;
using P2PRegistry.Swarm.Transport;
using P2PRegistry.Testing.Blobs;
using P2PRegistry.Testing.Fakes;
using P2PRegistry.Testing.FileSystem;
using P2PRegistry.Testing.Peers;

namespace P2PRegistry.Swarm.Tests.Transport;

/// <summary>
/// The peer port under connection floods, on real loopback sockets against a listening, seeding engine: sockets
/// that connect and send nothing, or handshake and then hold their session, cannot lock other peers out.
/// The port listens on 127.0.0.1; 127.0.0.1 is also the flooding source address, and 127.0.0.2 (the whole loopback
/// range is one interface on Linux) the peer that must still be served.
/// </summary>
public sealed class PeerPortLimitTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private static readonly IPAddress Flooder = IPAddress.Loopback;
    private static readonly IPAddress Other = IPAddress.Parse("127.0.0.2");

    [Fact]
    public async Task Listener_IdleSocketsOverThePendingCaps_ExtrasClosedAtOnceAndAnotherAddressStillServed()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(700_000, 256 * 1024);
        await using var seed = SeedNode.Start(blob, dir, o =>
        {
            o.MaxPendingConnections = 16;
            o.MaxPendingConnectionsPerAddress = 4;

            // Long deadlines: whatever is closed within the test's bound was closed for the cap, not for time.
            o.InboundHandshakeTimeout = TimeSpan.FromMinutes(5);
            o.HandshakeTimeout = TimeSpan.FromMinutes(5);
        });

        // More idle sockets from one address than either cap.
        var idle = new List<IdleSocket>();
        try
        {
            for (var i = 0; i < 20; i++)
            {
                idle.Add(await IdleSocket.ConnectAsync(Flooder, seed.EndPoint));
            }

            await PollAsync(() => idle.Count(s => s.Closed) >= 16);

            Assert.Equal(16, idle.Count(s => s.Closed));
            Assert.Equal(4, seed.Limiter.PendingCount(Flooder));
            Assert.Equal(16, seed.Refusals.Of("pending_per_address"));

            // The four waiting for their handshake hold no receive segment.
            Assert.Equal(0, seed.Pool.Outstanding);

            // Another address still gets in, and gets the blob.
            await using var peer = await HostilePeer.ConnectAsync(seed.EndPoint, Other, CancellationToken.None);
            using var cts = new CancellationTokenSource(Bound);
            Assert.NotNull(await peer.HandshakeAsync(blob.MetaInfo.InfoHash, cts.Token));
            Assert.Equal(blob.Content, await peer.DownloadAsync(blob.MetaInfo, cts.Token));
            Assert.Equal(4, idle.Count(s => !s.Closed));
        }
        finally
        {
            idle.ForEach(s => s.Dispose());
        }
    }

    [Fact]
    public async Task Listener_IdleSocketsFromSeveralAddresses_TotalPendingCapHolds()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(300_000, 256 * 1024);
        await using var seed = SeedNode.Start(blob, dir, o =>
        {
            o.MaxPendingConnections = 6;
            o.MaxPendingConnectionsPerAddress = 3;
            o.InboundHandshakeTimeout = TimeSpan.FromMinutes(5);
        });

        var idle = new List<IdleSocket>();
        try
        {
            foreach (var from in new[] { "127.0.0.1", "127.0.0.3", "127.0.0.4" })
            {
                for (var i = 0; i < 4; i++)
                {
                    idle.Add(await IdleSocket.ConnectAsync(IPAddress.Parse(from), seed.EndPoint));
                }
            }

            await PollAsync(() => idle.Count(s => s.Closed) >= 6);

            Assert.Equal(6, idle.Count(s => s.Closed));
            Assert.Equal(6, seed.Limiter.Pending);
            Assert.True(seed.Refusals.Of("pending_total") >= 1, "no connection was refused for the total cap");
            Assert.Equal(6, seed.Refusals.Of("pending_total") + seed.Refusals.Of("pending_per_address"));
        }
        finally
        {
            idle.ForEach(s => s.Dispose());
        }
    }

    [Fact]
    public async Task Accept_PeerSendsNoHandshakeWithinTheInboundDeadline_Closed()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(300_000, 256 * 1024);
        await using var seed = SeedNode.Start(blob, dir, o =>
        {
            o.InboundHandshakeTimeout = TimeSpan.FromMilliseconds(500);
            o.HandshakeTimeout = TimeSpan.FromMinutes(5); // a dialled connection's deadline is not the one that applies
        });

        // One says nothing; one starts a handshake and never finishes it.
        using var silent = await IdleSocket.ConnectAsync(Flooder, seed.EndPoint);
        var handshake = new ArrayBufferWriter<byte>();
        new Handshake(blob.MetaInfo.InfoHash, PeerId.CreateRandom()).Write(handshake);
        using var partial = await IdleSocket.ConnectAsync(Flooder, seed.EndPoint, send: handshake.WrittenSpan[..20].ToArray());

        await PollAsync(() => silent.Closed && partial.Closed);

        Assert.True(silent.Closed);
        Assert.True(partial.Closed);
        await PollAsync(() => seed.Limiter.Pending == 0);
        Assert.Equal(0, seed.Limiter.Pending);
        Assert.Equal(2, seed.Refusals.Of("handshake_timeout"));
    }

    [Fact]
    public async Task Accept_MoreSessionsFromOneAddressThanItsCap_TheAddressNeverHoldsMoreAndAnotherAddressServed()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(700_000, 256 * 1024);
        await using var seed = SeedNode.Start(blob, dir, o => o.MaxConnectionsPerAddress = 3);
        using var cts = new CancellationTokenSource(Bound);

        // Five handshaken sessions from one address that then only hold their connection: each one past the cap takes
        // the slot of one that never gave or took a block (the oldest), so the address never holds more than three.
        var held = new List<HostilePeer>();
        try
        {
            var answered = 0;
            for (var i = 0; i < 5; i++)
            {
                var peer = await HostilePeer.ConnectAsync(seed.EndPoint, Flooder, cts.Token);
                held.Add(peer);
                answered += await peer.HandshakeAsync(blob.MetaInfo.InfoHash, cts.Token) is null ? 0 : 1;
            }

            Assert.Equal(5, answered);
            Assert.True(await held[0].WaitForCloseAsync(Bound) && await held[1].WaitForCloseAsync(Bound), "the oldest idle sessions were not dropped");

            // A dropped session gives its slot back as it ends, moments after its socket closes.
            var deadline = DateTime.UtcNow + Bound;
            while (seed.Limiter.Count(Flooder) != 3 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20, cts.Token);
            }

            Assert.Equal(3, seed.Limiter.Count(Flooder));

            await using var other = await HostilePeer.ConnectAsync(seed.EndPoint, Other, cts.Token);
            Assert.NotNull(await other.HandshakeAsync(blob.MetaInfo.InfoHash, cts.Token));
            Assert.Equal(blob.Content, await other.DownloadAsync(blob.MetaInfo, cts.Token));
        }
        finally
        {
            foreach (var peer in held)
            {
                await peer.DisposeAsync();
            }
        }
    }

    private static async Task PollAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Bound;
        while (!condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
    }

    /// <summary>A socket that connects from a chosen address and then says nothing (or a few bytes); notices when the server closes it.</summary>
    private sealed class IdleSocket : IDisposable
    {
        private readonly Socket _socket;
        private readonly Task<bool> _closed;

        private IdleSocket(Socket socket, bool connected)
        {
            _socket = socket;
            _closed = connected ? WatchAsync(socket) : Task.FromResult(true);
        }

        /// <summary>Whether the server closed the connection (an end of stream or a reset).</summary>
        public bool Closed => _closed.IsCompleted;

        public static async Task<IdleSocket> ConnectAsync(IPAddress from, IPEndPoint to, byte[]? send = null)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                socket.Bind(new IPEndPoint(from, 0));
                try
                {
                    await socket.ConnectAsync(to).WaitAsync(Bound);
                    if (send is not null)
                    {
                        await socket.SendAsync(send);
                    }
                }
                catch (SocketException exception) when (exception.SocketErrorCode == SocketError.ConnectionReset)
                {
                    // Accepted and reset before this side saw its connect complete: closed by the server all the same.
                    return new IdleSocket(socket, connected: false);
                }

                return new IdleSocket(socket, connected: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        public void Dispose() => _socket.Dispose();

        private static async Task<bool> WatchAsync(Socket socket)
        {
            var buffer = new byte[64];
            try
            {
                while (await socket.ReceiveAsync(buffer) > 0)
                {
                }
            }
            catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
            {
            }

            return true;
        }
    }

    /// <summary>A seeding engine behind its own peer listener on 127.0.0.1, its limiter, its refusal counts and its memory pool.</summary>
    private sealed class SeedNode : IAsyncDisposable
    {
        private readonly SwarmEngine _engine;
        private readonly PeerSocketListener _listener;
        private readonly ServiceProvider _services;

        private SeedNode(SwarmEngine engine, PeerSocketListener listener, ServiceProvider services, CountingMemoryPool pool, RefusalCounter refusals, IPEndPoint endPoint)
        {
            _engine = engine;
            _listener = listener;
            _services = services;
            Pool = pool;
            Refusals = refusals;
            EndPoint = endPoint;
        }

        public IPEndPoint EndPoint { get; }

        public CountingMemoryPool Pool { get; }

        public RefusalCounter Refusals { get; }

        public ConnectionLimiter Limiter => _engine.Context.Connections;

        public static SeedNode Start(TestBlob blob, TempDirectory dir, Action<SwarmOptions> configure)
        {
            var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
            var meters = services.GetRequiredService<IMeterFactory>();
            var refusals = new RefusalCounter(meters);
            var engine = new SwarmEngine(Options.Create(SwarmTestContext.FastOptions(configure)), new FakeTracker(), new SwarmMetrics(meters), NullLoggerFactory.Instance);
            var pool = new CountingMemoryPool();
            var listener = new PeerSocketListener(engine, NullLogger<PeerSocketListener>.Instance, pool);
            var bound = listener.Start(new IPEndPoint(IPAddress.Loopback, 0));
            engine.ListenPort = bound.Port;
            engine.Seed(blob.MetaInfo, blob.WriteTo(dir.Path, "seed"));
            return new SeedNode(engine, listener, services, pool, refusals, bound);
        }

        public async ValueTask DisposeAsync()
        {
            await _listener.DisposeAsync();
            await _engine.DisposeAsync();
            Refusals.Dispose();
            await _services.DisposeAsync();
        }
    }

    /// <summary>Counts <c>p2pregistry.swarm.connections_refused</c> by reason, for one engine's meters only.</summary>
    private sealed class RefusalCounter : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly Dictionary<string, long> _byReason = [];

        public RefusalCounter(IMeterFactory meters)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Scope == meters && instrument.Name == SwarmMetrics.ConnectionsRefusedName)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            {
                foreach (var tag in tags)
                {
                    if (tag.Key == "reason")
                    {
                        lock (_byReason)
                        {
                            _byReason[(string)tag.Value!] = _byReason.GetValueOrDefault((string)tag.Value!) + value;
                        }
                    }
                }
            });
            _listener.Start();
        }

        public long Of(string reason)
        {
            lock (_byReason)
            {
                return _byReason.GetValueOrDefault(reason);
            }
        }

        public void Dispose() => _listener.Dispose();
    }
}
