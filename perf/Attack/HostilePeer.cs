using System.Buffers;
using System.Net.Sockets;
using P2PRegistry.Core.Wire;

namespace P2PRegistry.Attack;

/// <summary>
/// One connection to the origin's peer port that has exchanged BEP 3 handshakes for the target's info hash and
/// then does only what its owner makes it do. Whatever the origin sends is read and thrown away, so the origin
/// never sees a full receive window (which would make the attacker, not the origin, the bottleneck).
/// </summary>
internal sealed class HostilePeer : IAsyncDisposable
{
    private readonly Socket _socket;

    private HostilePeer(Socket socket) => _socket = socket;

    /// <summary>Connects and exchanges handshakes; null with a reason when the origin refuses or closes first.</summary>
    public static async Task<(HostilePeer? Peer, string? Refusal)> ConnectAsync(OriginTarget target, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var socket = new Socket(target.PeerEndPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await socket.ConnectAsync(target.PeerEndPoint, deadline.Token);

            // Reserved bits all zero: a plain BEP 3 peer, no extension protocol.
            var output = new ArrayBufferWriter<byte>(Handshake.Length);
            new Handshake(target.MetaInfo.InfoHash, PeerId.CreateRandom(), reserved: 0).Write(output);
            await socket.SendAsync(output.WrittenMemory, SocketFlags.None, deadline.Token);

            var answer = new byte[Handshake.Length];
            var received = 0;
            while (received < answer.Length)
            {
                var read = await socket.ReceiveAsync(answer.AsMemory(received), SocketFlags.None, deadline.Token);
                if (read == 0)
                {
                    socket.Dispose();
                    return (null, "closed before its handshake");
                }

                received += read;
            }

            var sequence = new ReadOnlySequence<byte>(answer);
            if (Handshake.TryRead(ref sequence, out var handshake) != OperationStatus.Done || handshake.InfoHash != target.MetaInfo.InfoHash)
            {
                socket.Dispose();
                return (null, "answered another info hash");
            }

            return (new HostilePeer(socket), null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            return (null, "timed out");
        }
        catch (Exception exception) when (exception is SocketException or PeerProtocolException)
        {
            socket.Dispose();
            return (null, exception.Message);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public ValueTask<int> SendAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken) =>
        _socket.SendAsync(bytes, SocketFlags.None, cancellationToken);

    /// <summary>Reads and discards until the origin closes (true) or the token fires (false).</summary>
    public async Task<bool> DrainAsync(CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            while (true)
            {
                if (await _socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken) == 0)
                {
                    return true;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return false;
        }
        catch (SocketException)
        {
            return true;
        }
        catch (ObjectDisposedException)
        {
            // The owner closed the socket: not the origin's doing.
            return false;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
