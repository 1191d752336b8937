using System.Buffers;
using System.Net;
using System.Net.Sockets;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Core.Wire;

namespace P2PRegistry.Testing.Peers;

/// <summary>
/// A scripted BitTorrent peer that dials: connects (from a chosen 127.0.0.x), handshakes with any info hash and any
/// claimed peer id, sends any frame or raw bytes, and reads and counts what the other side answers. Attack tests
/// drive it against our peer port; nothing it sends is checked, that is the point.
/// </summary>
public sealed class HostilePeer : IAsyncDisposable
{
    /// <summary>What the reader accepts from the other side; far above any frame our engine sends.</summary>
    private const int MaxIncomingFrame = 4 * 1024 * 1024;

    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly Dictionary<PeerMessageType, int> _received = [];
    private byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;
    private readonly Queue<ReceivedMessage> _pending = new();
    private bool _remoteClosed;
    private bool _sendFailed;
    private bool _reading;

    private HostilePeer(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
    }

    public IPEndPoint LocalEndPoint => (IPEndPoint)_socket.LocalEndPoint!;

    /// <summary>The handshake the other side answered with, once <see cref="ReadHandshakeAsync"/> has read it.</summary>
    public Handshake? TheirHandshake { get; private set; }

    /// <summary>True once a read saw the other side close (or reset) the connection, or a write found it gone.</summary>
    public bool RemoteClosed => _remoteClosed || _sendFailed;

    /// <summary>Bytes this peer has written so far.</summary>
    public long BytesSent { get; private set; }

    /// <summary>Dials <paramref name="remote"/> (127.0.0.x), from <paramref name="localAddress"/> (127.0.0.x) when given.</summary>
    public static async Task<HostilePeer> ConnectAsync(IPEndPoint remote, IPAddress? localAddress = null, CancellationToken cancellationToken = default) =>
        new(await Loopback.ConnectAsync(remote, localAddress, TimeSpan.FromSeconds(10), cancellationToken));

    /// <summary>Wraps a connection a listener accepted.</summary>
    internal static HostilePeer Accepted(Socket socket) => new(socket);

    /// <summary>Dials, sends a handshake for <paramref name="infoHash"/> claiming <paramref name="peerId"/> (a fresh one if null) and reads the answer.</summary>
    public static async Task<HostilePeer> ConnectAndHandshakeAsync(IPEndPoint remote, InfoHash infoHash, PeerId? peerId = null, IPAddress? localAddress = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var peer = await ConnectAsync(remote, localAddress, cancellationToken);
        try
        {
            await peer.SendHandshakeAsync(infoHash, peerId ?? PeerId.CreateRandom(), cancellationToken: cancellationToken);
            await peer.ReadHandshakeAsync(timeout ?? TimeSpan.FromSeconds(30), cancellationToken);
            return peer;
        }
        catch
        {
            await peer.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Sends a handshake for <paramref name="infoHash"/> (a fresh peer id, no extension bit) and reads the answer;
    /// null when the other side closed (or reset) the connection instead, as a server refusing a peer does.
    /// </summary>
    public async Task<Handshake?> HandshakeAsync(InfoHash infoHash, CancellationToken cancellationToken = default)
    {
        try
        {
            await SendHandshakeAsync(infoHash, PeerId.CreateRandom(), reserved: 0, cancellationToken);
            return await ReadHandshakeAsync(System.Threading.Timeout.InfiniteTimeSpan, cancellationToken);
        }
        catch (Exception exception) when (exception is EndOfStreamException or IOException or SocketException)
        {
            return null;
        }
    }

    /// <summary>
    /// A well-behaved download after the handshake: says interested and, while unchoked, keeps 32 requests of 16 KiB
    /// blocks in flight until it has every block; returns the blob. Throws <see cref="EndOfStreamException"/> when
    /// the other side hangs up first.
    /// </summary>
    public async Task<byte[]> DownloadAsync(MetaInfo metaInfo, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(metaInfo);
        const int blockLength = 16 * 1024;
        const int pipeline = 32;
        var content = new byte[metaInfo.Length];
        var blocks = new List<(int Index, int Begin, int Length)>();
        for (var piece = 0; piece < metaInfo.PieceCount; piece++)
        {
            var size = metaInfo.GetPieceSize(piece);
            for (var begin = 0; begin < size; begin += blockLength)
            {
                blocks.Add((piece, begin, Math.Min(blockLength, size - begin)));
            }
        }

        var missing = new HashSet<(int, int)>(blocks.Select(b => (b.Index, b.Begin)));
        var outstanding = new HashSet<(int, int)>();
        var choked = true;
        var requests = new ArrayBufferWriter<byte>();
        await SendInterestedAsync(cancellationToken);
        while (missing.Count > 0)
        {
            var message = await ReadMessageAsync(System.Threading.Timeout.InfiniteTimeSpan, cancellationToken)
                ?? throw new EndOfStreamException($"The peer closed the connection with {missing.Count} blocks missing.");
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
                    message.Payload.CopyTo(content.AsSpan((int)metaInfo.GetPieceOffset(message.Index) + message.Begin));
                    break;
            }

            if (choked)
            {
                continue;
            }

            requests.ResetWrittenCount();
            foreach (var block in blocks)
            {
                if (outstanding.Count >= pipeline)
                {
                    break;
                }

                if (missing.Contains((block.Index, block.Begin)) && outstanding.Add((block.Index, block.Begin)))
                {
                    PeerMessageWriter.WriteRequest(requests, block.Index, block.Begin, block.Length);
                }
            }

            if (requests.WrittenCount > 0)
            {
                await SendAsync(requests.WrittenMemory, cancellationToken);
            }
        }

        return content;
    }

    /// <summary>How many messages of <paramref name="type"/> were read so far.</summary>
    /// <remarks>
    /// Counts what has arrived so far: messages already sitting in the socket are parsed (and kept, in order, for
    /// <see cref="ReadMessageAsync"/>) without waiting, unless a read is in flight.
    /// </remarks>
    public int Received(PeerMessageType type)
    {
        ParseAvailable();
        return _received.GetValueOrDefault(type);
    }

    public Task SendHandshakeAsync(InfoHash infoHash, PeerId peerId, ulong reserved = Handshake.ExtensionProtocolBit, CancellationToken cancellationToken = default) =>
        SendAsync(Frames.Handshake(infoHash, peerId, reserved), cancellationToken);

    /// <summary>Sends any bytes as they are.</summary>
    /// <remarks>
    /// A write that finds the other side gone (reset, broken pipe) does not throw: hanging up on a hostile peer is
    /// an outcome tests look for (<see cref="RemoteClosed"/>), not an error of the script.
    /// </remarks>
    public async Task SendAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken = default)
    {
        if (_sendFailed)
        {
            return;
        }

        try
        {
            await _stream.WriteAsync(bytes, cancellationToken);
            BytesSent += bytes.Length;
        }
        catch (Exception exception) when (exception is IOException or SocketException)
        {
            _sendFailed = true;
        }
    }

    /// <summary>Sends what <paramref name="write"/> puts in the buffer (e.g. a <see cref="PeerMessageWriter"/> call or several).</summary>
    public Task SendAsync(Action<IBufferWriter<byte>> write, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(write);
        var output = new ArrayBufferWriter<byte>();
        write(output);
        return SendAsync(output.WrittenMemory, cancellationToken);
    }

    public Task SendKeepAliveAsync(CancellationToken cancellationToken = default) => SendAsync(Frames.KeepAlive(), cancellationToken);

    public Task SendInterestedAsync(CancellationToken cancellationToken = default) => SendAsync(Frames.Interested(), cancellationToken);

    public Task SendRequestAsync(uint index, uint begin, uint length, CancellationToken cancellationToken = default) =>
        SendAsync(Frames.Request(index, begin, length), cancellationToken);

    public Task SendCancelAsync(uint index, uint begin, uint length, CancellationToken cancellationToken = default) =>
        SendAsync(Frames.Cancel(index, begin, length), cancellationToken);

    public Task SendHaveAsync(uint index, CancellationToken cancellationToken = default) => SendAsync(Frames.Have(index), cancellationToken);

    /// <summary>A bitfield with any bytes: valid (see <see cref="Frames.FullBitfield"/>) or malformed (wrong length, spare bits set).</summary>
    public Task SendBitfieldAsync(ReadOnlyMemory<byte> bits, CancellationToken cancellationToken = default) =>
        SendAsync(Frames.Bitfield(bits.Span), cancellationToken);

    /// <summary>A piece message with any block: the right bytes, junk, or the right bytes corrupted.</summary>
    public Task SendPieceAsync(uint index, uint begin, ReadOnlyMemory<byte> block, CancellationToken cancellationToken = default) =>
        SendAsync(Frames.Piece(index, begin, block.Span), cancellationToken);

    /// <summary>BEP 10 extension handshake (ext id 0) with any payload, of any size.</summary>
    public Task SendExtensionHandshakeAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default) =>
        SendAsync(Frames.Extended(ExtensionHandshake.HandshakeExtensionId, payload.Span), cancellationToken);

    /// <summary>
    /// Sends up to <paramref name="count"/> cancels as fast as the socket takes them, for at most <paramref name="duration"/>,
    /// in batches (one write carries many). Stops early, without throwing, when the other side closes. Returns how many went out.
    /// </summary>
    public async Task<int> SendCancelFloodAsync(int count, TimeSpan duration, uint index = 0, uint begin = 0, uint length = 16 * 1024, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        const int batch = 4096;
        var one = Frames.Cancel(index, begin, length);
        var buffer = new byte[one.Length * batch];
        for (var i = 0; i < batch; i++)
        {
            one.CopyTo(buffer, i * one.Length);
        }

        var deadline = DateTime.UtcNow + duration;
        var sent = 0;
        while (sent < count && DateTime.UtcNow < deadline && !_sendFailed)
        {
            var n = Math.Min(batch, count - sent);
            await SendAsync(buffer.AsMemory(0, n * one.Length), cancellationToken);
            sent += _sendFailed ? 0 : n;
        }

        return sent;
    }

    /// <summary>Reads the other side's 68-byte handshake.</summary>
    /// <exception cref="TimeoutException">Nothing complete within <paramref name="timeout"/>.</exception>
    /// <exception cref="EndOfStreamException">The other side closed first.</exception>
    public async Task<Handshake> ReadHandshakeAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var deadline = Deadline(timeout, cancellationToken);
        while (true)
        {
            var buffer = Buffered;
            if (buffer.Length > 0 && Handshake.TryRead(ref buffer, out var handshake) == OperationStatus.Done)
            {
                _start += Core.Wire.Handshake.Length;
                TheirHandshake = handshake;
                return handshake;
            }

            if (!await FillAsync(timeout, deadline.Token, cancellationToken))
            {
                throw new EndOfStreamException("The other side closed the connection before its handshake.");
            }
        }
    }

    /// <summary>The next message, or null when the other side closed the connection first.</summary>
    /// <exception cref="TimeoutException">No complete message within <paramref name="timeout"/>.</exception>
    public async Task<ReceivedMessage?> ReadMessageAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        if (_pending.TryDequeue(out var pending))
        {
            return pending;
        }

        using var deadline = Deadline(timeout, cancellationToken);
        while (true)
        {
            if (TryParse() is { } received)
            {
                return received;
            }

            if (!await FillAsync(timeout, deadline.Token, cancellationToken))
            {
                return null;
            }
        }
    }

    /// <summary>Reads (and counts) messages until one matches; null when the other side closed first.</summary>
    /// <exception cref="TimeoutException">None matched within <paramref name="timeout"/>.</exception>
    public async Task<ReceivedMessage?> WaitForAsync(Func<ReceivedMessage, bool> match, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(match);
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException($"No matching message within {timeout}.");
            }

            var message = await ReadMessageAsync(left, cancellationToken);
            if (message is null || match(message))
            {
                return message;
            }
        }
    }

    /// <summary>Reads and drops whatever comes until the other side closes: true if it did within <paramref name="timeout"/>.</summary>
    public async Task<bool> WaitForCloseAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var deadline = Deadline(timeout, cancellationToken);
        try
        {
            _pending.Clear();
            while (true)
            {
                _start = _end;
                if (!await FillAsync(timeout, deadline.Token, cancellationToken))
                {
                    return true;
                }
            }
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    /// <summary>Half-closes: the other side reads everything sent so far, then end of stream; this side can still read.</summary>
    public void ShutdownSend() => _socket.Shutdown(SocketShutdown.Send);

    /// <summary>Closes the connection at once with a TCP reset (a peer that vanishes).</summary>
    public void Abort()
    {
        _socket.LingerState = new LingerOption(true, 0);
        _socket.Close();
    }

    public async ValueTask DisposeAsync() => await _stream.DisposeAsync();

    private ReadOnlySequence<byte> Buffered => new(_buffer, _start, _end - _start);

    private static CancellationTokenSource Deadline(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        return deadline;
    }

    /// <summary>Reads more bytes after what is buffered; false when the other side closed (or reset) the connection.</summary>
    private async Task<bool> FillAsync(TimeSpan timeout, CancellationToken deadline, CancellationToken cancellationToken)
    {
        if (_remoteClosed)
        {
            return false;
        }

        MakeRoom();
        _reading = true;
        try
        {
            var read = await _socket.ReceiveAsync(_buffer.AsMemory(_end), SocketFlags.None, deadline);
            if (read == 0)
            {
                _remoteClosed = true;
                return false;
            }

            _end += read;
            return true;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"Nothing more arrived within {timeout}.");
        }
        catch (SocketException)
        {
            _remoteClosed = true;
            return false;
        }
        finally
        {
            _reading = false;
        }
    }

    private void MakeRoom()
    {
        if (_start > 0)
        {
            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            _end -= _start;
            _start = 0;
        }

        if (_end == _buffer.Length)
        {
            // A frame longer than the buffer: grow up to the largest frame the reader accepts.
            Array.Resize(ref _buffer, Math.Min(_buffer.Length * 2, MaxIncomingFrame + 4));
        }
    }

    /// <summary>The next complete message in the buffer (counted), or null.</summary>
    private ReceivedMessage? TryParse()
    {
        var buffer = Buffered;
        var before = buffer.Length;
        if (PeerMessageReader.TryRead(ref buffer, MaxIncomingFrame, out var message) != OperationStatus.Done)
        {
            return null;
        }

        var received = ReceivedMessage.From(message);
        _start += (int)(before - buffer.Length);
        _received[received.Type] = _received.GetValueOrDefault(received.Type) + 1;
        return received;
    }

    /// <summary>Parses, without waiting, the messages already in the socket (after the handshake, with no read in flight).</summary>
    private void ParseAvailable()
    {
        if (_reading || _remoteClosed || TheirHandshake is null)
        {
            return;
        }

        try
        {
            while (_socket.Available > 0)
            {
                MakeRoom();
                var read = _socket.Receive(_buffer.AsSpan(_end), SocketFlags.None);
                if (read == 0)
                {
                    _remoteClosed = true;
                    break;
                }

                _end += read;
            }
        }
        catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
        {
            _remoteClosed = true;
        }

        while (TryParse() is { } message)
        {
            _pending.Enqueue(message);
        }
    }
}
