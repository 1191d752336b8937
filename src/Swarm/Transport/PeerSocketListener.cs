using System.Buffers;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using P2PRegistry.Swarm.Bandwidth;

namespace P2PRegistry.Swarm.Transport;

/// <summary>
/// The peer port: accepts TCP connections and runs each as an inbound peer session of the engine, over a
/// <see cref="PeerSocketConnection"/>. Stopping closes the port and aborts every connection still open.
/// </summary>
/// <remarks>
/// A connection is <em>pending</em> from its accept until the engine has taken the peer's handshake (which must
/// come within <see cref="SwarmOptions.InboundHandshakeTimeout"/>). Pending connections are capped in total and per
/// source address (<see cref="SwarmOptions.MaxPendingConnections"/>, <see cref="SwarmOptions.MaxPendingConnectionsPerAddress"/>);
/// one over a cap is reset as it is accepted, before it costs more than the accept, so sockets that connect and send
/// nothing cannot hold the peer port.
/// </remarks>
public sealed class PeerSocketListener : IAsyncDisposable
{
    private const int Backlog = 512;

    /// <summary>After a failed accept (out of descriptors, say): a pause instead of a busy loop.</summary>
    private static readonly TimeSpan AcceptRetryDelay = TimeSpan.FromMilliseconds(200);

    private readonly SwarmEngine _engine;
    private readonly ILogger<PeerSocketListener> _logger;
    private readonly MemoryPool<byte>? _pool;
    private readonly CancellationTokenSource _stopping = new();
    private readonly HashSet<IPeerConnection> _live = [];
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Socket? _socket;
    private Task _accepting = Task.CompletedTask;
    private bool _stopped;

    public PeerSocketListener(SwarmEngine engine, ILogger<PeerSocketListener> logger)
        : this(engine, logger, pool: null)
    {
    }

    /// <param name="pool">Where the connections' pipes take their segments (tests count them); null: the shared pool.</param>
    internal PeerSocketListener(SwarmEngine engine, ILogger<PeerSocketListener> logger, MemoryPool<byte>? pool)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(logger);
        _engine = engine;
        _logger = logger;
        _pool = pool;
    }

    /// <summary>The bound endpoint (the real port when asked for port 0); null before <see cref="Start"/>.</summary>
    public IPEndPoint? BoundEndPoint { get; private set; }

    /// <summary>Binds and starts accepting. Fails with the address in the message when the port cannot be had.</summary>
    public IPEndPoint Start(IPEndPoint endPoint)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        if (_socket is not null)
        {
            throw new InvalidOperationException("The peer listener is already started.");
        }

        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (endPoint.Address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }

            socket.Bind(endPoint);
            socket.Listen(Backlog);
        }
        catch (SocketException exception)
        {
            socket.Dispose();
            throw new IOException($"Cannot listen for peers on {endPoint}: {exception.Message}", exception);
        }

        _socket = socket;
        BoundEndPoint = (IPEndPoint)socket.LocalEndPoint!;
        _accepting = AcceptLoopAsync(socket);
        return BoundEndPoint;
    }

    /// <summary>Stops accepting, aborts the open connections and waits (as long as the token allows) for their sessions to end.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        IPeerConnection[] live;
        lock (_live)
        {
            if (_stopped)
            {
                return;
            }

            _stopped = true;
            live = [.. _live];
            if (live.Length == 0)
            {
                _drained.TrySetResult();
            }
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        _socket?.Dispose();
        try
        {
            await _accepting.ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            // Whatever ended the accept loop, the connections still open are ended below.
            TransportLog.AcceptFailed(_logger, BoundEndPoint, exception.Message);
        }

        foreach (var connection in live)
        {
            connection.Abort();
        }

        await _drained.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await StopAsync(bound.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Sessions that did not end in time end with the process.
        }

        _stopping.Dispose();
    }

    private async Task AcceptLoopAsync(Socket listen)
    {
        var token = _stopping.Token;
        while (!token.IsCancellationRequested)
        {
            Socket accepted;
            try
            {
                accepted = await listen.AcceptAsync(token).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException exception)
            {
                if (token.IsCancellationRequested)
                {
                    return;
                }

                TransportLog.AcceptFailed(_logger, BoundEndPoint, exception.Message);
                try
                {
                    await Task.Delay(AcceptRetryDelay, token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                continue;
            }

            if (RemoteAddressOf(accepted) is not { } remote)
            {
                // Reset by the peer before we got to it.
                accepted.Dispose();
                continue;
            }

            var limiter = _engine.Context.Connections;
            if (!limiter.TryAcquirePending(remote.Address, out var refusal))
            {
                Refuse(accepted, remote, refusal);
                continue;
            }

            IPeerConnection connection;
            try
            {
                connection = _engine.PeerTls is null ? new PeerSocketConnection(accepted, _pool) : new PeerTlsConnection(accepted);
            }
            catch (SocketException exception)
            {
                // Reset by the peer before we got to it.
                limiter.ReleasePending(remote.Address);
                accepted.Dispose();
                TransportLog.AcceptFailed(_logger, BoundEndPoint, exception.Message);
                continue;
            }

            lock (_live)
            {
                if (_stopped)
                {
                    limiter.ReleasePending(remote.Address);
                    accepted.Dispose();
                    return;
                }

                _live.Add(connection);
            }

            _ = RunAsync(connection, remote.Address);
        }
    }

    /// <summary>Closes a connection over a pending cap with a reset: no FIN handshake, and no TIME_WAIT left on this side.</summary>
    private void Refuse(Socket accepted, IPEndPoint remote, ConnectionRefusal refusal)
    {
        _engine.Context.Metrics.ConnectionRefused(refusal);
        TransportLog.PendingRefused(_logger, remote, SwarmMetrics.ReasonTag(refusal));
        try
        {
            accepted.LingerState = new LingerOption(enable: true, seconds: 0);
        }
        catch (SocketException)
        {
            // Already reset by the peer: closing is all there is to do.
        }

        accepted.Dispose();
    }

    private async Task RunAsync(IPeerConnection connection, IPAddress address)
    {
        var limiter = _engine.Context.Connections;
        var pending = 1;
        void Handshaken()
        {
            if (Interlocked.Exchange(ref pending, 0) == 1)
            {
                limiter.ReleasePending(address);
            }
        }

        // The handshake runs off the accept loop, so one slow peer does not hold up the next.
        await Task.Yield();
        try
        {
            if (connection is PeerTlsConnection tls)
            {
                // Within the handshake timeout, as a plain peer's BitTorrent handshake is: a client that speaks plain
                // BitTorrent (or nothing) here fails it and is closed, counted as pending until then.
                try
                {
                    await tls.AuthenticateAsServerAsync(_engine.PeerTls!.ServerOptions(), _engine.Context.Options.InboundHandshakeTimeout, _stopping.Token).ConfigureAwait(false);
                }
                catch (PeerTlsException exception)
                {
                    _engine.Context.Metrics.ConnectionRefused(ConnectionRefusal.Tls);
                    TransportLog.TlsRefused(_logger, connection.RemoteEndPoint, exception.Message);
                    return;
                }
            }

            connection.Start();
            await _engine.AcceptAsync(connection, connection.RemoteEndPoint, Handshaken, connection.ConnectionClosed).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            // The engine handles what a peer can cause; anything else is ours, and must not end the process.
            TransportLog.ConnectionFailed(_logger, connection.RemoteEndPoint, exception);
        }
        finally
        {
            try
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }
            finally
            {
                // A connection that never got past its handshake stays pending until its socket is closed.
                Handshaken();
                lock (_live)
                {
                    _live.Remove(connection);
                    if (_stopped && _live.Count == 0)
                    {
                        _drained.TrySetResult();
                    }
                }
            }
        }
    }

    private static IPEndPoint? RemoteAddressOf(Socket socket)
    {
        try
        {
            return socket.RemoteEndPoint as IPEndPoint;
        }
        catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
        {
            return null;
        }
    }
}
