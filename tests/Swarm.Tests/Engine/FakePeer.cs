using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using P2PRegistry.Core.Pieces;
using P2PRegistry.Core.Wire;

namespace P2PRegistry.Swarm.Tests.Engine;

/// <summary>
/// A misbehaving peer on 127.0.0.1 that claims every piece and unchokes at once, then either never
/// answers a request (<see cref="AnswerBlocks"/> = 0) or answers that many blocks correctly and hangs up,
/// optionally ignoring every request for a while first.
/// </summary>
internal sealed class FakePeer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly TestBlob _blob;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private int _requests;
    private int _blocksSent;

    private readonly DateTime _answerFrom;
    private readonly bool _corrupt;

    /// <param name="ignoreRequestsFor">Requests arriving this soon after start are never answered (a peer slow for a while).</param>
    /// <param name="corrupt">Every block it answers has one byte flipped (a liar).</param>
    public FakePeer(TestBlob blob, int answerBlocks, TimeSpan ignoreRequestsFor = default, bool corrupt = false)
    {
        _blob = blob;
        _corrupt = corrupt;
        AnswerBlocks = answerBlocks;
        _answerFrom = DateTime.UtcNow + ignoreRequestsFor;
        _listener.Start();
        _accepting = AcceptLoopAsync();
    }

    public PeerId PeerId { get; } = PeerId.CreateRandom();

    public IPEndPoint EndPoint => (IPEndPoint)_listener.LocalEndpoint;

    public int AnswerBlocks { get; }

    public int Requests => Volatile.Read(ref _requests);

    public int BlocksSent => Volatile.Read(ref _blocksSent);

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
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
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                connections.Add(ServeAsync(client));
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        await Task.WhenAll(connections).WaitAsync(TimeSpan.FromSeconds(10));
    }

    private async Task ServeAsync(TcpClient client)
    {
        using var _ = client;
        var stream = client.GetStream();
        var input = PipeReader.Create(stream);
        var output = PipeWriter.Create(stream);
        try
        {
            var handshakeDone = false;
            while (!_stop.IsCancellationRequested)
            {
                var result = await input.ReadAsync(_stop.Token);
                var buffer = result.Buffer;
                if (!handshakeDone)
                {
                    if (Handshake.TryRead(ref buffer, out var theirs) != OperationStatus.Done)
                    {
                        input.AdvanceTo(buffer.Start, buffer.End);
                        continue;
                    }

                    handshakeDone = true;
                    new Handshake(theirs.InfoHash, PeerId, reserved: 0).Write(output);
                    var all = new Bitfield(_blob.MetaInfo.PieceCount);
                    all.SetAll();
                    PeerMessageWriter.WriteBitfield(output, all);
                    PeerMessageWriter.WriteUnchoke(output);
                }

                var hangUp = false;
                while (!hangUp && PeerMessageReader.TryRead(ref buffer, 1 << 20, out var message) == OperationStatus.Done)
                {
                    if (message.Type != PeerMessageType.Request)
                    {
                        continue;
                    }

                    Interlocked.Increment(ref _requests);
                    if (_blocksSent < AnswerBlocks && DateTime.UtcNow >= _answerFrom)
                    {
                        var block = _blob.Piece(message.Index).Slice(message.Begin, message.Length).ToArray();
                        if (_corrupt)
                        {
                            block[0] ^= 0xFF;
                        }

                        PeerMessageWriter.WritePiece(output, message.Index, message.Begin, block);
                        if (Interlocked.Increment(ref _blocksSent) == AnswerBlocks)
                        {
                            hangUp = true;
                        }
                    }
                }

                input.AdvanceTo(buffer.Start, buffer.End);
                await output.FlushAsync(_stop.Token);
                if (hangUp || result.IsCompleted)
                {
                    // Mid-piece: the rest of the requested blocks never come.
                    client.Client.Close();
                    return;
                }
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
        }
    }
}
