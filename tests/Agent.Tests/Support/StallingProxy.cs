using System.Net;
using System.Net.Sockets;

namespace P2PRegistry.Agent.Tests.Support;

/// <summary>
/// A TCP relay on 127.0.0.1 in front of one peer that passes on only the peer's first <c>budget</c> bytes (over all
/// connections), then holds every connection open and passes nothing more: a source that stops sending mid-blob
/// without closing (a stopped process, a dead route). What the dialer sends always reaches the peer.
/// </summary>
internal sealed class StallingProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _relays = [];
    private readonly List<Socket> _sockets = [];
    private readonly Lock _lock = new();
    private readonly Task _accepting;
    private long _budget;

    public StallingProxy(IPEndPoint target, long budget)
    {
        _target = target;
        _budget = budget;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public IPEndPoint EndPoint => (IPEndPoint)_listener.LocalEndpoint;

    /// <summary>True once the peer's bytes stopped being passed on.</summary>
    public bool Stalled => Interlocked.Read(ref _budget) <= 0;

    private async Task AcceptAsync()
    {
        for (var i = 0; i < 1000 && !_stop.IsCancellationRequested; i++)
        {
            Socket dialer;
            try
            {
                dialer = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            var peer = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            lock (_lock)
            {
                _sockets.Add(dialer);
                _sockets.Add(peer);
                _relays.Add(RelayAsync(dialer, peer));
            }
        }
    }

    private async Task RelayAsync(Socket dialer, Socket peer)
    {
        try
        {
            await peer.ConnectAsync(_target, _stop.Token);
            await Task.WhenAll(PumpAsync(dialer, peer, limited: false), PumpAsync(peer, dialer, limited: true));
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    private async Task PumpAsync(Socket from, Socket to, bool limited)
    {
        var buffer = new byte[64 * 1024];
        while (true)
        {
            var read = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
            if (read == 0)
            {
                return;
            }

            var pass = read;
            if (limited)
            {
                // Past the budget the bytes are read and dropped: the connection stays open, nothing arrives.
                var left = Interlocked.Add(ref _budget, -read) + read;
                pass = (int)Math.Clamp(left, 0, read);
            }

            if (pass > 0)
            {
                await to.SendAsync(buffer.AsMemory(0, pass), SocketFlags.None, _stop.Token);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        Task[] relays;
        lock (_lock)
        {
            foreach (var socket in _sockets)
            {
                socket.Dispose();
            }

            relays = [.. _relays];
        }

        await Task.WhenAll(relays);
        _stop.Dispose();
    }
}
