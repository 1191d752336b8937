using System.Net;
using System.Threading.Channels;
using P2PRegistry.Core.Pieces;
using P2PRegistry.Core.Wire;
using P2PRegistry.Swarm.PiecePicking;

namespace P2PRegistry.Swarm.Sessions;

/// <summary>
/// One connection to a peer, past the handshake, over an <see cref="System.IO.Pipelines.IDuplexPipe"/>
/// (a Kestrel connection or a dialled socket: the same code). Three loops: receive (parses with the
/// Core codec and acts), send (the only writer of the pipe, fed by a queue), and a timer (keep-alive,
/// idle and stall detection, pipeline sizing). Request state lives under the swarm's lock.
/// </summary>
internal sealed partial class PeerSession
{
    private readonly BlobSwarm _swarm;
    private readonly SwarmContext _context;
    private readonly System.IO.Pipelines.IDuplexPipe _transport;
    private readonly CancellationTokenSource _closed = new();
    private readonly Channel<Outbound> _outbox = Channel.CreateUnbounded<Outbound>(new UnboundedChannelOptions { SingleReader = true });
    private readonly List<BlockRequest> _outstanding = [];
    private readonly HashSet<(int Piece, int Begin)> _cancelledByPeer = [];
    private string? _closeReason;
    private int _queuedPieces;
    private int _requestDepth;
    private long _lastBlockAt;
    private long _lastReceivedAt;
    private long _lastSentAt;
    private long _bytesSinceTick;
    private long _snubbedUntil;

    public PeerSession(
        BlobSwarm swarm,
        System.IO.Pipelines.IDuplexPipe transport,
        PeerId remotePeerId,
        EndPoint? remoteEndPoint,
        IPEndPoint? listenEndPoint,
        bool isOrigin,
        bool supportsExtensions)
    {
        _swarm = swarm;
        _context = swarm.Context;
        _transport = transport;
        RemotePeerId = remotePeerId;
        RemoteEndPoint = remoteEndPoint;
        ListenEndPoint = listenEndPoint;
        IsOrigin = isOrigin;
        SupportsExtensions = supportsExtensions;
        PeerPieces = new Bitfield(swarm.MetaInfo.PieceCount);
        _requestDepth = Math.Max(1, _context.Options.MinRequestQueueBytes / _context.Options.BlockSize);
        var now = _context.Time.GetTimestamp();
        _lastBlockAt = now;
        _lastReceivedAt = now;
        _lastSentAt = now;
    }

    /// <summary>The swarm's small integer id for this peer (the picker's requester id).</summary>
    public int Key { get; set; } = -1;

    public PeerId RemotePeerId { get; }

    public EndPoint? RemoteEndPoint { get; }

    /// <summary>Where the peer listens, when known (we dialled it); used to blacklist and to avoid dialling twice.</summary>
    public IPEndPoint? ListenEndPoint { get; }

    public bool IsOrigin { get; }

    /// <summary>
    /// Where an inbound peer says it listens (BEP 10 extension handshake <c>p</c>), so the tracker's copy of
    /// its address is recognised as already connected and not dialled again.
    /// </summary>
    public IPEndPoint? AdvertisedEndPoint { get; private set; }

    /// <summary>This node dialled the connection.</summary>
    public bool IsOutbound => ListenEndPoint is not null;

    public bool SupportsExtensions { get; }

    /// <summary>The pieces the peer has (from its bitfield and haves). Guarded by the swarm lock.</summary>
    public Bitfield PeerPieces { get; }

    /// <summary>This complete seed shows the peer a few pieces at a time (<see cref="SwarmOptions.SuperSeed"/>). Set under the swarm lock at registration.</summary>
    public bool SuperSeeded { get; set; }

    /// <summary>The bitfield a super-seeded peer is sent instead of the store's (wire bytes, a snapshot).</summary>
    public byte[]? RevealedBitfield { get; set; }

    public bool AmChoking { get; set; } = true;

    public bool AmInterested { get; private set; }

    public bool PeerChoking { get; private set; } = true;

    public bool PeerInterested { get; set; }

    /// <summary>
    /// The peer's pieces do not keep an origin from being asked for them: it is an origin itself (the last
    /// resort), or it is choking us, or it stopped answering (snubbed). What the picker was told: it changes only
    /// through <see cref="SyncServingLocked"/>, so availability is added and removed with the same flag.
    /// </summary>
    public bool IsUnserved { get; private set; } = true;

    /// <summary>
    /// Stopped answering requests: asked for nothing until it sends a block again, or for one stall timeout
    /// (it may be the only peer with the pieces, and only slow for a while).
    /// </summary>
    public bool Snubbed => _snubbedUntil != 0 && _context.Time.GetTimestamp() < _snubbedUntil;

    public int OutstandingCount => _outstanding.Count;

    public int RequestDepth => _requestDepth;

    public string? CloseReason => _closeReason;

    /// <summary>Queues a message for the send loop; dropped once the session is closing.</summary>
    public void Enqueue(Outbound message) => _outbox.Writer.TryWrite(message);

    /// <summary>Ends the session (its loops stop, its blocks return to the picker).</summary>
    public void Close(string reason)
    {
        Interlocked.CompareExchange(ref _closeReason, reason, null);
        try
        {
            _closed.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>Runs the session until either side closes it; returns why it ended.</summary>
    public async Task<string> RunAsync(CancellationToken cancellationToken)
    {
        if (!_swarm.TryRegister(this))
        {
            await CompleteTransportAsync().ConfigureAwait(false);
            return "already connected to this peer";
        }

        _context.Metrics.PeerConnected();
        using var registration = cancellationToken.Register(static s => ((PeerSession)s!).Close("stopped"), this);
        var token = _closed.Token;
        if (SupportsExtensions)
        {
            Enqueue(new Outbound(OutboundKind.ExtensionHandshake));
        }

        var send = SendLoopAsync(token);
        var timer = TimerLoopAsync(token);
        string reason;
        try
        {
            await ReceiveLoopAsync(token).ConfigureAwait(false);
            reason = "closed by peer";
        }
        catch (PeerProtocolException exception)
        {
            SwarmLog.ProtocolViolation(_context.Logger, RemotePeerId, RemoteEndPoint, exception.Message);
            reason = exception.Message;
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            reason = _closeReason ?? "stopped";
        }
        catch (Exception exception) when (exception is IOException or System.Net.Sockets.SocketException or InvalidOperationException
            or ObjectDisposedException or Microsoft.AspNetCore.Connections.ConnectionResetException
            or Microsoft.AspNetCore.Connections.ConnectionAbortedException)
        {
            reason = exception.Message;
        }
        finally
        {
            Close("receive loop ended");
            _outbox.Writer.TryComplete();
            _swarm.Unregister(this);
            _context.Metrics.PeerDisconnected();
        }

        await IgnoreFailureAsync(send).ConfigureAwait(false);
        await IgnoreFailureAsync(timer).ConfigureAwait(false);
        await CompleteTransportAsync().ConfigureAwait(false);
        reason = _closeReason is { } r && r != "receive loop ended" ? r : reason;
        SwarmLog.PeerDisconnected(_context.Logger, RemotePeerId, RemoteEndPoint, reason);
        _closed.Dispose();
        return reason;
    }

    private async Task CompleteTransportAsync()
    {
        await _transport.Input.CompleteAsync().ConfigureAwait(false);
        await _transport.Output.CompleteAsync().ConfigureAwait(false);
    }

    private static async Task IgnoreFailureAsync(Task task)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException or InvalidOperationException
            or System.Net.Sockets.SocketException or Microsoft.AspNetCore.Connections.ConnectionResetException
            or Microsoft.AspNetCore.Connections.ConnectionAbortedException or ObjectDisposedException)
        {
            // The connection is going away; its end was already logged by the receive loop.
        }
    }

    private async Task TimerLoopAsync(CancellationToken cancellationToken)
    {
        var options = _context.Options;
        var tick = TimeSpan.FromTicks(Math.Clamp(options.StallTimeout.Ticks / 4, TimeSpan.FromMilliseconds(20).Ticks, TimeSpan.FromMilliseconds(250).Ticks));
        using var timer = new PeriodicTimer(tick, _context.Time);
        var lastTick = _context.Time.GetTimestamp();
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
        {
            var now = _context.Time.GetTimestamp();
            if (_context.Time.GetElapsedTime(Volatile.Read(ref _lastReceivedAt), now) > options.IdleTimeout)
            {
                Close("idle timeout");
                return;
            }

            if (_context.Time.GetElapsedTime(Volatile.Read(ref _lastSentAt), now) >= options.KeepAliveInterval)
            {
                Volatile.Write(ref _lastSentAt, now);
                Enqueue(new Outbound(OutboundKind.KeepAlive));
            }

            var elapsed = _context.Time.GetElapsedTime(lastTick, now);
            lastTick = now;
            lock (_swarm.Sync)
            {
                AdaptRequestDepthLocked(elapsed);
                CheckStallLocked(now);
                SyncServingLocked(); // a snub ends by time
                _swarm.OnSuperSeededTickLocked(this);

                FillRequestsLocked();
            }
        }
    }
}
