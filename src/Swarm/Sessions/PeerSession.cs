using System.Net;
using System.Threading.Channels;
using P2PRegistry.Core.Wire;
using P2PRegistry.Swarm.PiecePicking;

namespace P2PRegistry.Swarm.Sessions;

/// <summary>
/// One connection to a peer, past the handshake, over an <see cref="System.IO.Pipelines.IDuplexPipe"/>
/// (a Kestrel connection or a dialled socket: the same code). Three loops: receive (parses with the Core codec and
/// reports each message to its <see cref="IPeerSessionOwner"/>), send (the only writer of the pipe: the messages the
/// owner queued, then the blocks it hands out) and a timer (keep-alive, idle timeout, then the owner's tick). The
/// session keeps only what the connection itself observes; what is known about the peer belongs to the owner.
/// </summary>
internal sealed partial class PeerSession
{
    private static int s_nextId;

    private readonly IPeerSessionOwner _owner;
    private readonly SwarmContext _context;
    private readonly int _pieceCount;
    private readonly Func<int, int> _pieceSize;
    private readonly System.IO.Pipelines.IDuplexPipe _transport;
    private readonly CancellationTokenSource _closed = new();
    private readonly Channel<Outbound> _outbox = Channel.CreateUnbounded<Outbound>(new UnboundedChannelOptions { SingleReader = true });
    private string? _closeReason;
    private long _lastReceivedAt;
    private long _lastSentAt;
    private int _wakePending;
    private int _queued;
    private bool _remoteLazyHave;

    public PeerSession(
        IPeerSessionOwner owner,
        SwarmContext context,
        Core.MetaInfos.MetaInfo metaInfo,
        System.IO.Pipelines.IDuplexPipe transport,
        PeerId remotePeerId,
        EndPoint? remoteEndPoint,
        IPEndPoint? listenEndPoint,
        bool isOrigin,
        bool supportsExtensions)
    {
        _owner = owner;
        _context = context;
        _pieceCount = metaInfo.PieceCount;
        _pieceSize = metaInfo.GetPieceSize;
        _transport = transport;
        Id = Interlocked.Increment(ref s_nextId);
        RemotePeerId = remotePeerId;
        RemoteEndPoint = remoteEndPoint;
        ListenEndPoint = listenEndPoint;
        IsOrigin = isOrigin;
        SupportsExtensions = supportsExtensions;
        var now = _context.Time.GetTimestamp();
        _lastReceivedAt = now;
        _lastSentAt = now;
    }

    /// <summary>Unique in the process: the owner's key for this peer (the picker's requester id).</summary>
    public int Id { get; }

    /// <summary>The id the peer claimed in its handshake: a claim, never a key for blame.</summary>
    public PeerId RemotePeerId { get; }

    /// <summary>Where the connection comes from, as the socket sees it.</summary>
    public EndPoint? RemoteEndPoint { get; }

    /// <summary>The address the socket sees (null over an in-memory pipe).</summary>
    public IPAddress? RemoteAddress => (RemoteEndPoint as IPEndPoint)?.Address ?? ListenEndPoint?.Address;

    /// <summary>Where the peer listens, when known (we dialled it); used to blacklist and to avoid dialling twice.</summary>
    public IPEndPoint? ListenEndPoint { get; }

    /// <summary>The tracker handed the peer out as an origin (this node dialled it as one).</summary>
    public bool IsOrigin { get; }

    /// <summary>
    /// Where an inbound peer says it listens (BEP 10 extension handshake <c>p</c>, on the address the socket sees), so
    /// the tracker's copy of its address is recognised as already connected and not dialled again.
    /// </summary>
    public IPEndPoint? AdvertisedEndPoint { get; private set; }

    /// <summary>The zone the peer said it is in (extension handshake), or empty when it named none.</summary>
    public string RemoteZone { get; private set; } = string.Empty;

    /// <summary>
    /// The peer said it needs no <c>have</c> for a piece it already has (extension handshake
    /// <c>p2pregistry_lazy_have</c>): in a large swarm most haves would tell a peer what it knows.
    /// </summary>
    public bool RemoteLazyHave
    {
        get => Volatile.Read(ref _remoteLazyHave);
        private set => Volatile.Write(ref _remoteLazyHave, value);
    }

    /// <summary>Where the peer listens: dialled, or advertised on its observed address; null when unknown.</summary>
    public IPEndPoint? PeerEndPoint => ListenEndPoint ?? AdvertisedEndPoint;

    /// <summary>This node dialled the connection.</summary>
    public bool IsOutbound => ListenEndPoint is not null;

    public bool SupportsExtensions { get; }

    public string? CloseReason => _closeReason;

    /// <summary>
    /// Messages queued and not yet written, at most: our requests (a pipeline, 512 at most), a <c>have</c> per piece, a
    /// few others. A peer that keeps sending but stops reading its socket (it chokes and unchokes us, and each unchoke
    /// queues a pipeline of requests) is closed past it instead of growing the queue.
    /// </summary>
    internal int MaxQueuedMessages => _pieceCount + 4096;

    /// <summary>Queues a message for the send loop; dropped once the session is closing.</summary>
    public void Send(Outbound message)
    {
        if (Interlocked.Increment(ref _queued) > MaxQueuedMessages)
        {
            // Not inline: the owner queues under its lock, and closing may run this session's loops' ends here.
            Interlocked.Decrement(ref _queued);
            ThreadPool.UnsafeQueueUserWorkItem(static session => session.Close("does not read what is sent to it"), this, preferLocal: false);
            return;
        }

        if (!_outbox.Writer.TryWrite(message))
        {
            Interlocked.Decrement(ref _queued);
        }
    }

    /// <summary>The owner queued a block for this peer: wakes the send loop (once, however many are queued).</summary>
    public void WakeSender()
    {
        if (Interlocked.Exchange(ref _wakePending, 1) == 0)
        {
            Send(new Outbound(OutboundKind.Wake));
        }
    }

    /// <summary>Ends the session (its loops stop, and the owner hears of it).</summary>
    public void Close(string reason) => TryClose(reason);

    /// <summary>Ends the session; true when this call ended it (false: it was already closing).</summary>
    public bool TryClose(string reason)
    {
        var first = Interlocked.CompareExchange(ref _closeReason, reason, null) is null;
        try
        {
            _closed.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }

        return first;
    }

    /// <summary>Runs the session until either side closes it; returns why it ended.</summary>
    public async Task<string> RunAsync(CancellationToken cancellationToken)
    {
        if (!_owner.TryAttach(this))
        {
            await CompleteTransportAsync().ConfigureAwait(false);
            return _closeReason ?? "refused by the swarm";
        }

        _context.Metrics.PeerConnected();
        using var registration = cancellationToken.Register(static s => ((PeerSession)s!).Close("stopped"), this);
        var token = _closed.Token;
        if (SupportsExtensions)
        {
            Send(new Outbound(OutboundKind.ExtensionHandshake));
        }

        var send = SendUntilFailureAsync(token);
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
            _owner.Detach(this);
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

    /// <summary>The send loop; a failure to send (a block that cannot be read, a broken pipe) ends the whole session.</summary>
    private async Task SendUntilFailureAsync(CancellationToken cancellationToken)
    {
        try
        {
            await SendLoopAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is IOException or InvalidOperationException or System.Net.Sockets.SocketException
            or Microsoft.AspNetCore.Connections.ConnectionResetException or Microsoft.AspNetCore.Connections.ConnectionAbortedException)
        {
            Close($"send failed: {exception.Message}");
        }
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
                Send(new Outbound(OutboundKind.KeepAlive));
            }

            var elapsed = _context.Time.GetElapsedTime(lastTick, now);
            lastTick = now;
            _owner.OnTick(this, elapsed);
        }
    }
}
