using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using P2PRegistry.Swarm.Tests.Engine;
using P2PRegistry.Swarm.Transport;
using P2PRegistry.Testing.Fakes;

namespace P2PRegistry.Swarm.Tests.Transport;

/// <summary>The peer port's own socket transport, over real loopback TCP connections.</summary>
public sealed class PeerSocketTransportTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Connection_LargeTransfersBothWaysAtOnce_ArriveIntactAndInOrder()
    {
        var (left, right) = await ConnectedPairAsync();
        await using (left)
        await using (right)
        {
            var leftData = RandomBytes(6 * 1024 * 1024 + 123, seed: 1);
            var rightData = RandomBytes(5 * 1024 * 1024 + 7, seed: 2);

            // Writes of awkward sizes (a frame header, a block, odd tails), flushed now and then, like a session.
            var sends = Task.WhenAll(WriteInPiecesAsync(left.Output, leftData), WriteInPiecesAsync(right.Output, rightData));
            var receives = Task.WhenAll(ReadExactlyAsync(right.Input, leftData.Length), ReadExactlyAsync(left.Input, rightData.Length));
            await sends.WaitAsync(Bound);
            var received = await receives.WaitAsync(Bound);

            Assert.Equal(leftData, received[0]);
            Assert.Equal(rightData, received[1]);
        }
    }

    [Fact]
    public async Task Connection_DataWaitingInTheSocket_IsTakenInLargeReceives()
    {
        var (left, right) = await ConnectedPairAsync();
        await using (left)
        await using (right)
        {
            const int Total = 1024 * 1024;
            left.Output.Write(RandomBytes(Total, seed: 3));
            await left.Output.FlushAsync();

            // Let all of it arrive (looked at, not consumed), then count the receive calls that brought it.
            var deadline = DateTime.UtcNow + Bound;
            while (true)
            {
                var result = await right.Input.ReadAsync().AsTask().WaitAsync(Bound);
                var length = result.Buffer.Length;
                var done = length >= Total || DateTime.UtcNow > deadline;
                right.Input.AdvanceTo(done ? result.Buffer.End : result.Buffer.Start, result.Buffer.End);
                if (done)
                {
                    Assert.Equal(Total, length);
                    break;
                }
            }

            // Kestrel's socket transport took 4 KiB a call: 256 receives for this. Here a call takes what the socket
            // holds, up to the rest of a 64 KiB segment.
            Assert.InRange(right.Receives, 1, 64);
        }
    }

    [Fact]
    public async Task Connection_DisposedRightAfterAWrite_StillSendsItThenEndsTheStream()
    {
        var (left, right) = await ConnectedPairAsync();
        await using (right)
        {
            var data = RandomBytes(3 * 1024 * 1024, seed: 4);
            var receiving = ReadToEndAsync(right.Input);

            // The flush returns once the send loop has taken most of it; the rest may still be in the pipe here.
            left.Output.Write(data);
            await left.Output.FlushAsync().AsTask().WaitAsync(Bound);
            await left.DisposeAsync();

            var received = await receiving.WaitAsync(Bound);

            Assert.Equal(data, received);
            await WaitCancelledAsync(right.ConnectionClosed);
        }
    }

    [Fact]
    public async Task Connection_Aborted_EndsItsOwnReadAndThePeersRead()
    {
        var (left, right) = await ConnectedPairAsync();
        await using (left)
        await using (right)
        {
            var leftRead = left.Input.ReadAsync().AsTask();
            var rightRead = right.Input.ReadAsync().AsTask();

            left.Abort();

            // The aborted side fails its pending read with a connection error; the peer sees the stream end.
            var own = await Record.ExceptionAsync(() => leftRead.WaitAsync(Bound));
            Assert.True(own is IOException or OperationCanceledException, $"Expected a connection error, got {own?.GetType().Name ?? "none"}.");
            var peer = await Record.ExceptionAsync(async () =>
            {
                var result = await rightRead.WaitAsync(Bound);
                Assert.True(result.IsCompleted);
            });
            Assert.True(peer is null or IOException, $"Expected the stream to end, got {peer}.");
            await WaitCancelledAsync(left.ConnectionClosed);
            await WaitCancelledAsync(right.ConnectionClosed);
        }
    }

    [Fact]
    public async Task Connection_NothingToRead_HoldsNoReceiveSegmentUntilDataArrives()
    {
        using var listen = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listen.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listen.Listen();
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var accepting = listen.AcceptAsync();
        await client.ConnectAsync((IPEndPoint)listen.LocalEndPoint!).WaitAsync(Bound);
        var pool = new CountingMemoryPool();
        await using var connection = new PeerSocketConnection(await accepting.WaitAsync(Bound), pool);

        // Start runs the receive loop up to its first wait: with nothing to read it has taken no segment.
        connection.Start();
        Assert.Equal(0, pool.Rented);

        await client.SendAsync(RandomBytes(100, seed: 5));
        var result = await connection.Input.ReadAsync().AsTask().WaitAsync(Bound);
        while (result.Buffer.Length < 100)
        {
            connection.Input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
            result = await connection.Input.ReadAsync().AsTask().WaitAsync(Bound);
        }

        // The data not yet consumed holds the one segment it came in.
        Assert.Equal(1, pool.Outstanding);

        // All of it read: the segment goes back, and the loop waits for more without one.
        connection.Input.AdvanceTo(result.Buffer.End);
        var deadline = DateTime.UtcNow + Bound;
        while (pool.Outstanding != 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.Equal(0, pool.Outstanding);
        Assert.Equal(1, pool.Rented);
    }

    [Fact]
    public async Task Listener_PortAlreadyInUse_FailsNamingTheAddress()
    {
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        taken.Listen();
        var port = ((IPEndPoint)taken.LocalEndPoint!).Port;
        await using var engine = CreateEngine();
        await using var listener = new PeerSocketListener(engine, NullLogger<PeerSocketListener>.Instance);

        var error = Assert.Throws<IOException>(() => listener.Start(new IPEndPoint(IPAddress.Loopback, port)));

        Assert.Contains($"127.0.0.1:{port}", error.Message, StringComparison.Ordinal);
        Assert.Null(listener.BoundEndPoint);
    }

    [Fact]
    public async Task Listener_Stopped_ClosesThePortAndTheConnectionsStillOpen()
    {
        // A peer that connects and never sends its handshake: the engine would wait a minute for it.
        await using var engine = CreateEngine(o => o.InboundHandshakeTimeout = TimeSpan.FromMinutes(1));
        var listener = new PeerSocketListener(engine, NullLogger<PeerSocketListener>.Instance);
        var bound = listener.Start(new IPEndPoint(IPAddress.Loopback, 0));
        Assert.NotEqual(0, bound.Port);
        using var idle = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await idle.ConnectAsync(bound);
        await Task.Delay(300);

        // Stopping ends the waiting session at once, not when the handshake would time out.
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await listener.StopAsync(stop.Token);

        var buffer = new byte[16];
        var ended = await Record.ExceptionAsync(async () => Assert.Equal(0, await idle.ReceiveAsync(buffer).WaitAsync(Bound)));
        Assert.True(ended is null or SocketException, $"Expected the connection closed, got {ended}.");
        using var late = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await Assert.ThrowsAsync<SocketException>(async () => await late.ConnectAsync(bound));
        await listener.DisposeAsync();
    }

    private static SwarmEngine CreateEngine(Action<SwarmOptions>? configure = null)
    {
        var meters = new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        return new SwarmEngine(Options.Create(SwarmTestContext.FastOptions(configure)), new FakeTracker(), new SwarmMetrics(meters), NullLoggerFactory.Instance);
    }

    private static async Task<(PeerSocketConnection Left, PeerSocketConnection Right)> ConnectedPairAsync()
    {
        using var listen = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listen.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listen.Listen();
        var accepting = listen.AcceptAsync();
        var left = await PeerDialer.ConnectAsync((IPEndPoint)listen.LocalEndPoint!, Bound, CancellationToken.None);
        var right = new PeerSocketConnection(await accepting.WaitAsync(Bound));
        right.Start();
        return (left, right);
    }

    private static async Task WriteInPiecesAsync(PipeWriter output, byte[] data)
    {
        int[] sizes = [4, 13, 16384, 1, 70000, 5, 16384, 333];
        var offset = 0;
        for (var i = 0; offset < data.Length; i++)
        {
            var size = Math.Min(sizes[i % sizes.Length], data.Length - offset);
            output.Write(data.AsSpan(offset, size));
            offset += size;
            if (i % 7 == 0)
            {
                await output.FlushAsync();
            }
        }

        await output.FlushAsync();
    }

    private static async Task<byte[]> ReadExactlyAsync(PipeReader input, int length)
    {
        var received = new byte[length];
        var filled = 0;
        while (filled < length)
        {
            var result = await input.ReadAsync();
            var take = (int)Math.Min(result.Buffer.Length, length - filled);
            result.Buffer.Slice(0, take).CopyTo(received.AsSpan(filled));
            filled += take;
            input.AdvanceTo(result.Buffer.GetPosition(take));
            if (result.IsCompleted && filled < length)
            {
                throw new EndOfStreamException($"The stream ended after {filled} of {length} bytes.");
            }
        }

        return received;
    }

    private static async Task<byte[]> ReadToEndAsync(PipeReader input)
    {
        using var all = new MemoryStream();
        while (true)
        {
            var result = await input.ReadAsync();
            foreach (var segment in result.Buffer)
            {
                all.Write(segment.Span);
            }

            input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                return all.ToArray();
            }
        }
    }

    private static async Task WaitCancelledAsync(CancellationToken token)
    {
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (token.Register(() => cancelled.TrySetResult()))
        {
            await cancelled.Task.WaitAsync(Bound, CancellationToken.None);
        }
    }

    private static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
