using System.Net;
using System.Net.Sockets;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Core.Wire;

namespace P2PRegistry.Testing.Peers;

/// <summary>
/// Many raw TCP connections to one server, held open: each either silent or handshaking then sending keep-alives.
/// Each connection's reads are drained in the background, so the flood sees when the server closes one.
/// Bounded: at most <see cref="MaxConnections"/>, every one closed on dispose.
/// </summary>
public sealed class SocketFlood : IAsyncDisposable
{
    public const int MaxConnections = 2048;

    private readonly List<Socket> _sockets = [];
    private readonly List<Task> _readers = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _keepAlives;
    private int _closedByServer;

    private SocketFlood(FloodMode mode, TimeSpan keepAliveInterval)
    {
        _keepAlives = mode == FloodMode.HandshakeThenKeepAlives ? KeepAliveLoopAsync(keepAliveInterval) : Task.CompletedTask;
    }

    /// <summary>Connections attempted.</summary>
    public int Attempted { get; private set; }

    /// <summary>Connections the server accepted (the TCP connect succeeded).</summary>
    public int Connected => _sockets.Count;

    /// <summary>Connects that failed or timed out (a full backlog, a refusing server).</summary>
    public int Refused => Attempted - Connected;

    /// <summary>Connected ones the server has since closed or reset.</summary>
    public int ClosedByServer => Volatile.Read(ref _closedByServer);

    /// <summary>Connected ones the server still holds open.</summary>
    public int StillOpen => Connected - ClosedByServer;

    /// <summary>
    /// Opens <paramref name="count"/> connections to <paramref name="target"/> one after the other (each connect bounded by
    /// <paramref name="connectTimeout"/>, 5 s by default), from <paramref name="localAddress"/> when given. In
    /// <see cref="FloodMode.HandshakeThenKeepAlives"/> each sends a handshake for <paramref name="infoHash"/> with a fresh peer id.
    /// </summary>
    public static async Task<SocketFlood> OpenAsync(IPEndPoint target, int count, FloodMode mode, InfoHash infoHash = default, IPAddress? localAddress = null, TimeSpan? keepAliveInterval = null, TimeSpan? connectTimeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, MaxConnections);
        var flood = new SocketFlood(mode, keepAliveInterval ?? TimeSpan.FromSeconds(1));
        try
        {
            for (var i = 0; i < count; i++)
            {
                flood.Attempted++;
                Socket socket;
                try
                {
                    socket = await Loopback.ConnectAsync(target, localAddress, connectTimeout ?? TimeSpan.FromSeconds(5), cancellationToken);
                }
                catch (Exception exception) when (exception is SocketException || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested))
                {
                    continue;
                }

                lock (flood._sockets)
                {
                    flood._sockets.Add(socket);
                }

                if (mode == FloodMode.HandshakeThenKeepAlives)
                {
                    try
                    {
                        await socket.SendAsync(Frames.Handshake(infoHash, PeerId.CreateRandom()), SocketFlags.None, cancellationToken);
                    }
                    catch (SocketException)
                    {
                        // Already closed by the server: the reader below counts it.
                    }
                }

                flood._readers.Add(flood.DrainAsync(socket));
            }

            return flood;
        }
        catch
        {
            await flood.DisposeAsync();
            throw;
        }
    }

    /// <summary>Polls until the server has closed at least <paramref name="atLeast"/> connections; false at the deadline.</summary>
    public async Task<bool> WaitForClosedAsync(int atLeast, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (ClosedByServer < atLeast)
        {
            if (DateTime.UtcNow >= deadline)
            {
                return false;
            }

            await Task.Delay(50);
        }

        return true;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        foreach (var socket in _sockets)
        {
            socket.Dispose();
        }

        try
        {
            await Task.WhenAll([.. _readers, _keepAlives]).WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }

    private async Task DrainAsync(Socket socket)
    {
        var buffer = new byte[4096];
        try
        {
            while (await socket.ReceiveAsync(buffer, SocketFlags.None, _stop.Token) > 0)
            {
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or ObjectDisposedException)
        {
            return;
        }
        catch (SocketException)
        {
        }

        if (!_stop.IsCancellationRequested)
        {
            Interlocked.Increment(ref _closedByServer);
        }
    }

    private async Task KeepAliveLoopAsync(TimeSpan interval)
    {
        var keepAlive = Frames.KeepAlive();
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                Socket[] sockets;
                lock (_sockets)
                {
                    sockets = [.. _sockets];
                }

                foreach (var socket in sockets)
                {
                    try
                    {
                        await socket.SendAsync(keepAlive, SocketFlags.None, _stop.Token);
                    }
                    catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
                    {
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
