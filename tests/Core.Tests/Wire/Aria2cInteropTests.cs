using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using P2PRegistry.Core.Bencoding;
using P2PRegistry.Core.Content;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Core.Pieces;
using P2PRegistry.Core.Wire;
using P2PRegistry.Testing;
using P2PRegistry.Testing.FileSystem;

namespace P2PRegistry.Core.Tests.Wire;

/// <summary>
/// The codec against a BitTorrent client nobody here wrote: aria2c seeds a blob from a .torrent built
/// from our MetaInfo, and the test downloads every block through our handshake, reader and writers.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class Aria2cInteropTests : IDisposable
{
    private const int BlockLength = 16 * 1024;
    private readonly TempDirectory _dir = new("p2pr-aria2c");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task DownloadEveryBlock_FromAria2cSeeder_ThroughOurCodec()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var ct = timeout.Token;

        // A blob of 2 full 256 KiB pieces and a short third one, seeded by aria2c from a torrent around our info dictionary.
        var content = new byte[(2 * 256 * 1024) + 40_000];
        new Random(17).NextBytes(content);
        var digest = Digest.Compute(content);
        var meta = await MetaInfo.ComputeAsync(digest, new MemoryStream(content), content.Length, 256 * 1024, ct);
        await File.WriteAllBytesAsync(_dir.Combine(digest.Value), content, ct);
        var torrent = _dir.Combine("blob.torrent");
        await File.WriteAllBytesAsync(torrent, TorrentFile(meta), ct);

        var port = FreePort();
        using var aria2c = StartAria2c(torrent, port);
        try
        {
            await RunAsync(meta, content, digest, port, aria2c, ct);
        }
        catch (Exception ex) when (File.Exists(_dir.Combine("aria2c.log")))
        {
            // aria2c's own account of the connection is the fastest way to see what it disliked.
            var log = await File.ReadAllLinesAsync(_dir.Combine("aria2c.log"), CancellationToken.None);
            throw new Xunit.Sdk.XunitException($"{ex.Message}\naria2c log (last 40 lines):\n{string.Join('\n', log.TakeLast(40))}\n{ex}");
        }
        finally
        {
            if (!aria2c.HasExited)
            {
                aria2c.Kill(entireProcessTree: true);
                await aria2c.WaitForExitAsync(CancellationToken.None);
            }
        }
    }

    private static async Task RunAsync(MetaInfo meta, byte[] content, Digest digest, int port, Process aria2c, CancellationToken ct)
    {
        {
            using var socket = await ConnectAsync(port, aria2c, ct);
            await using var stream = new NetworkStream(socket, ownsSocket: false);
            var reader = new FrameReader(stream);
            var ourId = PeerId.CreateRandom();

            var output = new ArrayBufferWriter<byte>();
            new Handshake(meta.InfoHash, ourId).Write(output);
            await stream.WriteAsync(output.WrittenMemory, ct);

            // aria2c drops a peer that sends anything past the 68 handshake bytes before it has answered
            // ("More than BtHandshakeMessage::MESSAGE_LENGTH bytes are buffered"): wait for its handshake first.
            var theirs = await reader.ReadHandshakeAsync(ct);
            Assert.Equal(meta.InfoHash, theirs.InfoHash);
            Assert.NotEqual(ourId, theirs.PeerId);
            Assert.True(theirs.SupportsExtensionProtocol);

            output.ResetWrittenCount();
            new ExtensionHandshake { Client = "P2PRegistry-test", RequestQueueLength = 64, MaxBlockLength = BlockLength }.WriteMessage(output);
            PeerMessageWriter.WriteInterested(output);
            await stream.WriteAsync(output.WrittenMemory, ct);

            ExtensionHandshake? extension = null;
            Bitfield? bitfield = null;
            var unchoked = false;
            var received = new byte[content.Length];
            var blocksLeft = 0;
            var requested = false;
            while (!requested || blocksLeft > 0)
            {
                // The message's slices point into the reader's buffer and stay valid until the next read.
                var message = await reader.ReadMessageAsync(ct);
                switch (message.Type)
                {
                    case PeerMessageType.Extended when message.ExtensionId == ExtensionHandshake.HandshakeExtensionId:
                        extension = ExtensionHandshake.Decode(message.ExtendedPayload);
                        break;
                    case PeerMessageType.Bitfield:
                        bitfield = new Bitfield(meta.PieceCount);
                        Assert.True(bitfield.TryReadFrom(message.Bits, out var error), error);
                        break;
                    case PeerMessageType.Have:
                        bitfield ??= new Bitfield(meta.PieceCount);
                        bitfield.Set(message.Index);
                        break;
                    case PeerMessageType.Unchoke:
                        unchoked = true;
                        break;
                    case PeerMessageType.Choke:
                        Assert.Fail("aria2c choked us mid-download");
                        break;
                    case PeerMessageType.Piece:
                        Assert.Equal(Math.Min(BlockLength, meta.GetPieceSize(message.Index) - message.Begin), message.Length);
                        message.Block.CopyTo(received.AsSpan((int)meta.GetPieceOffset(message.Index) + message.Begin));
                        blocksLeft--;
                        break;
                }

                if (unchoked && !requested && bitfield is { AllSet: true })
                {
                    // Every block of every piece in one burst: aria2c's request queue (reqq) is far larger.
                    output.ResetWrittenCount();
                    for (var piece = 0; piece < meta.PieceCount; piece++)
                    {
                        for (var begin = 0; begin < meta.GetPieceSize(piece); begin += BlockLength)
                        {
                            PeerMessageWriter.WriteRequest(output, piece, begin, Math.Min(BlockLength, meta.GetPieceSize(piece) - begin));
                            blocksLeft++;
                        }
                    }

                    await stream.WriteAsync(output.WrittenMemory, ct);
                    requested = true;
                }
            }

            Assert.NotNull(extension);
            Assert.StartsWith("aria2/", extension.Client, StringComparison.Ordinal);
            for (var piece = 0; piece < meta.PieceCount; piece++)
            {
                var hash = SHA1.HashData(received.AsSpan((int)meta.GetPieceOffset(piece), meta.GetPieceSize(piece)));
                Assert.Equal(meta.GetPieceHash(piece).ToArray(), hash);
            }

            Assert.Equal(digest, Digest.Compute(received));
        }
    }

    /// <summary>A single-file .torrent: <c>d8:announce…4:info&lt;our info dictionary&gt;e</c>.</summary>
    private static byte[] TorrentFile(MetaInfo meta)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new BencodeWriter(buffer);
        writer.WriteStartDictionary();
        writer.WriteString("announce"u8);
        writer.WriteString("http://127.0.0.1:1/announce"u8);
        writer.WriteString("info"u8);
        writer.WriteRaw(meta.Encoded.Span);
        writer.WriteEnd();
        return buffer.WrittenSpan.ToArray();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private Process StartAria2c(string torrent, int port)
    {
        var start = new ProcessStartInfo("aria2c")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
        {
            "--enable-dht=false", "--enable-dht6=false", "--bt-enable-lpd=false", "--enable-peer-exchange=false",
            "--disable-ipv6=true", "--bt-tracker-connect-timeout=5", "--bt-tracker-timeout=5", "--file-allocation=none",
            "--seed-ratio=0.0", "--bt-max-peers=0", "--bt-request-peer-speed-limit=0", "--check-integrity=true",
            "--interface=127.0.0.1", $"--listen-port={port}", "--console-log-level=warn", "--summary-interval=0",
            "--log", _dir.Combine("aria2c.log"), "--log-level=info", "-d", _dir.Path, torrent,
        })
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("aria2c did not start");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task<Socket> ConnectAsync(int port, Process aria2c, CancellationToken ct)
    {
        // aria2c listens once it has checked the file; retry until then (bounded by the test's timeout).
        for (var attempt = 0; ; attempt++)
        {
            Assert.False(aria2c.HasExited, $"aria2c exited with {(aria2c.HasExited ? aria2c.ExitCode : 0)}");
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), ct);
                return socket;
            }
            catch (SocketException) when (attempt < 200)
            {
                socket.Dispose();
                await Task.Delay(100, ct);
            }
        }
    }

    /// <summary>A minimal read loop over a stream: what the session layer will do with a pipe.</summary>
    private sealed class FrameReader(NetworkStream stream)
    {
        private byte[] _buffer = new byte[64 * 1024];
        private int _start;
        private int _end;

        public async Task<Handshake> ReadHandshakeAsync(CancellationToken ct)
        {
            while (true)
            {
                var sequence = new ReadOnlySequence<byte>(_buffer, _start, _end - _start);
                if (Handshake.TryRead(ref sequence, out var handshake) == OperationStatus.Done)
                {
                    _start = _end - (int)sequence.Length;
                    return handshake;
                }

                await FillAsync(ct);
            }
        }

        public async ValueTask<PeerMessage> ReadMessageAsync(CancellationToken ct)
        {
            while (true)
            {
                var sequence = new ReadOnlySequence<byte>(_buffer, _start, _end - _start);
                if (PeerMessageReader.TryRead(ref sequence, PeerMessageReader.DefaultMaxFrameLength, out var message) == OperationStatus.Done)
                {
                    // The next read compacts the buffer, so the slices live until then.
                    _start = _end - (int)sequence.Length;
                    return message;
                }

                await FillAsync(ct);
            }
        }

        private async Task FillAsync(CancellationToken ct)
        {
            if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }

            if (_end == _buffer.Length)
            {
                Array.Resize(ref _buffer, _buffer.Length * 2);
            }

            var read = await stream.ReadAsync(_buffer.AsMemory(_end), ct);
            if (read == 0)
            {
                throw new EndOfStreamException("aria2c closed the connection");
            }

            _end += read;
        }
    }
}
