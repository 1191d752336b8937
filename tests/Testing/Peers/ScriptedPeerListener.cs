using System.Net;
using System.Net.Sockets;
using P2PRegistry.Core.Wire;
using P2PRegistry.Testing.Blobs;

namespace P2PRegistry.Testing.Peers;

/// <summary>
/// A peer that listens on 127.0.0.x, as a tracker would hand it out: to every connection it answers the handshake
/// (for whatever info hash it was asked), advertises every piece of <see cref="TestBlob"/>, unchokes, then answers
/// requests as <see cref="PieceAnswer"/> says — at most <c>answerBlocks</c> of them, after which it hangs up
/// mid-piece — optionally ignoring every request for a while first.
/// </summary>
public sealed class ScriptedPeerListener : IAsyncDisposable
{
    private static readonly TimeSpan ReadForever = Timeout.InfiniteTimeSpan;
    private readonly TcpListener _listener;
    private readonly TestBlob _blob;
    private readonly CancellationTokenSource _stop = new();
    private readonly DateTime _answerFrom;
    private readonly Task _accepting;
    private readonly Random _junk = new(7);
    private int _requests;
    private int _blocksSent;
    private int _connections;

    /// <param name="blob">What it claims to have and (per <paramref name="answer"/>) serves.</param>
    /// <param name="answer">How it answers requests.</param>
    /// <param name="answerBlocks">Blocks it answers in all before it hangs up (a peer that quits mid-piece).</param>
    /// <param name="ignoreRequestsFor">Requests arriving this soon after start are never answered (a peer slow for a while).</param>
    /// <param name="address">The 127.0.0.x to listen on; 127.0.0.1 by default.</param>
    public ScriptedPeerListener(TestBlob blob, PieceAnswer answer, int answerBlocks = int.MaxValue, TimeSpan ignoreRequestsFor = default, IPAddress? address = null)
    {
        ArgumentNullException.ThrowIfNull(blob);
        ArgumentOutOfRangeException.ThrowIfNegative(answerBlocks);
        _blob = blob;
        Answer = answer;
        AnswerBlocks = answerBlocks;
        _answerFrom = DateTime.UtcNow + ignoreRequestsFor;
        _listener = new TcpListener(Loopback.Check(address ?? IPAddress.Loopback), 0);
        _listener.Start();
        _accepting = AcceptLoopAsync();
    }

    public PeerId PeerId { get; } = PeerId.CreateRandom();

    public IPEndPoint EndPoint => (IPEndPoint)_listener.LocalEndpoint;

    public PieceAnswer Answer { get; }

    public int AnswerBlocks { get; }

    /// <summary>Connections accepted so far.</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Requests received so far, answered or not.</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>Blocks sent so far (of whatever content <see cref="Answer"/> says).</summary>
    public int BlocksSent => Volatile.Read(ref _blocksSent);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _accepting.WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        _stop.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        var connections = new List<Task>();
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var socket = await _listener.AcceptSocketAsync(_stop.Token);
                Interlocked.Increment(ref _connections);
                connections.Add(ServeAsync(socket));
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        await Task.WhenAll(connections).WaitAsync(TimeSpan.FromSeconds(10));
    }

    private async Task ServeAsync(Socket socket)
    {
        await using var peer = HostilePeer.Accepted(socket);
        try
        {
            var theirs = await peer.ReadHandshakeAsync(ReadForever, _stop.Token);
            await peer.SendHandshakeAsync(theirs.InfoHash, PeerId, reserved: 0, _stop.Token);
            await peer.SendAsync(Frames.FullBitfield(_blob.MetaInfo.PieceCount), _stop.Token);
            await peer.SendAsync(Frames.Unchoke(), _stop.Token);
            while (await peer.ReadMessageAsync(ReadForever, _stop.Token) is { } message)
            {
                if (message.Type != PeerMessageType.Request)
                {
                    continue;
                }

                Interlocked.Increment(ref _requests);
                if (Answer == PieceAnswer.Hold || Volatile.Read(ref _blocksSent) >= AnswerBlocks || DateTime.UtcNow < _answerFrom)
                {
                    continue;
                }

                await peer.SendPieceAsync((uint)message.Index, (uint)message.Begin, Block(message), _stop.Token);
                if (Interlocked.Increment(ref _blocksSent) == AnswerBlocks)
                {
                    // Mid-piece: the rest of the requested blocks never come.
                    return;
                }
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or TimeoutException or IOException or SocketException or ObjectDisposedException or EndOfStreamException or PeerProtocolException)
        {
        }
    }

    private byte[] Block(ReceivedMessage request)
    {
        if (Answer == PieceAnswer.Junk)
        {
            var junk = new byte[request.Length];
            lock (_junk)
            {
                _junk.NextBytes(junk);
            }

            return junk;
        }

        var block = _blob.Piece(request.Index).Slice(request.Begin, request.Length).ToArray();
        if (Answer == PieceAnswer.Corrupt)
        {
            block[0] ^= 0xFF;
        }

        return block;
    }
}
