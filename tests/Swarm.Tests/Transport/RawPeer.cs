using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Core.Wire;

namespace P2PRegistry.Swarm.Tests.Transport;

/// <summary>
/// A BEP 3 peer on a plain socket bound to a chosen loopback address (127.0.0.2 is another source address to the
/// peer port than 127.0.0.1): connects, handshakes, and downloads a whole blob with plain requests.
/// </summary>
internal sealed class RawPeer : IAsyncDisposable
{
    private const int BlockLength = 16 * 1024;
    private const int Pipeline = 32;

    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly PipeReader _input;
    private readonly PipeWriter _output;

    private RawPeer(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _input = PipeReader.Create(_stream);
        _output = PipeWriter.Create(_stream);
    }

    public static async Task<RawPeer> ConnectAsync(IPAddress from, IPEndPoint to, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(new IPEndPoint(from, 0));
            await socket.ConnectAsync(to, cancellationToken);
            return new RawPeer(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Sends our handshake and reads the answer; null when the peer closed the connection instead.</summary>
    public async Task<Handshake?> HandshakeAsync(InfoHash infoHash, CancellationToken cancellationToken)
    {
        new Handshake(infoHash, PeerId.CreateRandom(), reserved: 0).Write(_output);
        await _output.FlushAsync(cancellationToken);
        try
        {
            while (true)
            {
                var result = await _input.ReadAsync(cancellationToken);
                var buffer = result.Buffer;
                if (Handshake.TryRead(ref buffer, out var theirs) == OperationStatus.Done)
                {
                    _input.AdvanceTo(buffer.Start);
                    return theirs;
                }

                _input.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted)
                {
                    return null;
                }
            }
        }
        catch (IOException)
        {
            // Reset by the peer.
            return null;
        }
    }

    /// <summary>After the handshake: says interested, and once unchoked requests every block; returns the blob.</summary>
    public async Task<byte[]> DownloadAsync(MetaInfo metaInfo, CancellationToken cancellationToken)
    {
        var content = new byte[metaInfo.Length];
        var blocks = new List<(int Index, int Begin, int Length)>();
        for (var piece = 0; piece < metaInfo.PieceCount; piece++)
        {
            var size = metaInfo.GetPieceSize(piece);
            for (var begin = 0; begin < size; begin += BlockLength)
            {
                blocks.Add((piece, begin, Math.Min(BlockLength, size - begin)));
            }
        }

        var missing = new HashSet<(int, int)>(blocks.Select(b => (b.Index, b.Begin)));
        var outstanding = new HashSet<(int, int)>();
        var choked = true;
        PeerMessageWriter.WriteInterested(_output);
        await _output.FlushAsync(cancellationToken);
        while (missing.Count > 0)
        {
            var result = await _input.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            while (PeerMessageReader.TryRead(ref buffer, 1 << 20, out var message) == OperationStatus.Done)
            {
                switch (message.Type)
                {
                    case PeerMessageType.Unchoke:
                        choked = false;
                        break;
                    case PeerMessageType.Choke:
                        // BEP 3: a choke drops every request still queued with the peer.
                        choked = true;
                        outstanding.Clear();
                        break;
                    case PeerMessageType.Piece when missing.Remove((message.Index, message.Begin)):
                        outstanding.Remove((message.Index, message.Begin));
                        message.Block.CopyTo(content.AsSpan((int)metaInfo.GetPieceOffset(message.Index) + message.Begin));
                        break;
                }
            }

            _input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted && missing.Count > 0)
            {
                throw new EndOfStreamException($"The peer closed the connection with {missing.Count} blocks missing.");
            }

            if (!choked)
            {
                foreach (var block in blocks)
                {
                    if (outstanding.Count >= Pipeline)
                    {
                        break;
                    }

                    if (missing.Contains((block.Index, block.Begin)) && outstanding.Add((block.Index, block.Begin)))
                    {
                        PeerMessageWriter.WriteRequest(_output, block.Index, block.Begin, block.Length);
                    }
                }

                await _output.FlushAsync(cancellationToken);
            }
        }

        return content;
    }

    public async ValueTask DisposeAsync()
    {
        await _input.CompleteAsync();
        await _output.CompleteAsync();
        _socket.Dispose();
        await _stream.DisposeAsync();
    }
}
