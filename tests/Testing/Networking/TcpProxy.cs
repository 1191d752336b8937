using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace P2PRegistry.Testing.Networking;

/// <summary>
/// A TCP proxy on 127.0.0.1 in front of a server, for the faults this machine cannot make otherwise (no netem,
/// no toxiproxy): a bandwidth cap on the server-to-client direction (slow enough to interrupt a transfer half way),
/// cutting every connection at once, and a record of what clients sent (to see e.g. a <c>Range:</c> header).
/// </summary>
public sealed class TcpProxy : IAsyncDisposable
{
    private const int RecordLimit = 64 * 1024;

    private readonly Socket _listener;
    private readonly IPEndPoint _target;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<int, (Socket Client, Socket Server)> _connections = new();
    private readonly ConcurrentQueue<StringBuilder> _sent = new();
    private readonly object _rateGate = new();
    private readonly Task _acceptLoop;
    private long _bytesToClients;
    private long _rateBytesPerSecond;
    private long _rateWindowBytes;
    private Stopwatch _rateWindow = Stopwatch.StartNew();
    private int _nextId;
    private int _bytesFlipped;

    private TcpProxy(Socket listener, IPEndPoint target, long bytesPerSecond)
    {
        _listener = listener;
        _target = target;
        _rateBytesPerSecond = bytesPerSecond;
        _acceptLoop = AcceptLoopAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndPoint!).Port;

    /// <summary><c>127.0.0.1:port</c> of the proxy.</summary>
    public string Host => $"127.0.0.1:{Port}";

    /// <summary>Server-to-client bytes forwarded so far, over all connections.</summary>
    public long BytesToClients => Interlocked.Read(ref _bytesToClients);

    /// <summary>Starts a proxy to 127.0.0.1:<paramref name="targetPort"/>; <paramref name="bytesPerSecond"/> 0 = unlimited.</summary>
    public static TcpProxy Start(int targetPort, long bytesPerSecond = 0)
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(64);
        return new TcpProxy(listener, new IPEndPoint(IPAddress.Loopback, targetPort), bytesPerSecond);
    }

    /// <summary>
    /// When set to N, every N-th byte of each connection's server-to-client stream (offsets N-1, 2N-1, …) is
    /// inverted: a corrupting path that hits every large body, also on a reused connection. Null = unchanged.
    /// </summary>
    public long? FlipServerByteEvery { get; set; }

    /// <summary>Server-to-client bytes inverted so far.</summary>
    public int BytesFlipped => Volatile.Read(ref _bytesFlipped);

    /// <summary>Changes the server-to-client cap for every connection, now (0 = unlimited).</summary>
    public void SetRate(long bytesPerSecond)
    {
        lock (_rateGate)
        {
            _rateBytesPerSecond = bytesPerSecond;
            _rateWindowBytes = 0;
            _rateWindow = Stopwatch.StartNew();
        }
    }

    /// <summary>Resets every open connection (both sides see a broken connection).</summary>
    public void CutAll()
    {
        foreach (var (id, pair) in _connections)
        {
            Abort(pair.Client);
            Abort(pair.Server);
            _connections.TryRemove(id, out _);
        }
    }

    /// <summary>What clients sent, per connection up to 64 KiB each, as ASCII (HTTP request heads are readable).</summary>
    public IReadOnlyList<string> ClientTraffic() => _sent.Select(record =>
    {
        lock (record)
        {
            return record.ToString();
        }
    }).ToList();

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        CutAll();
        try
        {
            await _acceptLoop.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopping.
        }

        _stopping.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = Task.Run(() => RelayAsync(client));
        }
    }

    private async Task RelayAsync(Socket client)
    {
        var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var id = Interlocked.Increment(ref _nextId);
        var graceful = false;
        try
        {
            await server.ConnectAsync(_target, _stopping.Token).ConfigureAwait(false);
            _connections[id] = (client, server);
            var record = new StringBuilder();
            _sent.Enqueue(record);
            var up = PumpAsync(client, server, throttle: false, record);
            var down = PumpAsync(server, client, throttle: true, null);
            // Each direction ends on its own end of stream (half-close passed on), so a server that closes
            // right after its response still gets all of it delivered.
            var results = await Task.WhenAll(up, down).ConfigureAwait(false);
            graceful = results.All(r => r);
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Refused or stopping: the client sees its connection close.
        }
        finally
        {
            _connections.TryRemove(id, out _);
            if (graceful)
            {
                client.Dispose();
                server.Dispose();
            }
            else
            {
                Abort(client);
                Abort(server);
            }
        }
    }

    /// <summary>Copies until end of stream (true) or an error (false; then both sockets are reset so the other direction stops too).</summary>
    private async Task<bool> PumpAsync(Socket from, Socket to, bool throttle, StringBuilder? record)
    {
        var buffer = new byte[throttle ? 16 * 1024 : 64 * 1024];
        long position = 0;
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None, _stopping.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return true;
                }

                if (record is not null)
                {
                    lock (record)
                    {
                        if (record.Length < RecordLimit)
                        {
                            record.Append(Encoding.ASCII.GetString(buffer, 0, Math.Min(read, RecordLimit - record.Length)));
                        }
                    }
                }

                if (throttle)
                {
                    if (FlipServerByteEvery is { } every and > 0)
                    {
                        for (var flip = ((position / every) + 1) * every - 1; flip < position + read; flip += every)
                        {
                            buffer[flip - position] ^= 0xFF;
                            Interlocked.Increment(ref _bytesFlipped);
                        }
                    }

                    position += read;
                    await ThrottleAsync(read).ConfigureAwait(false);
                }

                // Counted before the send: once the client has read these bytes the count already holds them (counting
                // after the send raced a client that read the last bytes and checked the count at once).
                if (throttle)
                {
                    Interlocked.Add(ref _bytesToClients, read);
                }

                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, _stopping.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            Abort(from);
            Abort(to);
            return false;
        }
    }

    private async Task ThrottleAsync(int bytes)
    {
        TimeSpan wait;
        lock (_rateGate)
        {
            if (_rateBytesPerSecond <= 0)
            {
                return;
            }

            // All connections share one budget: the bytes so far may not run ahead of rate × elapsed.
            _rateWindowBytes += bytes;
            wait = TimeSpan.FromSeconds((double)_rateWindowBytes / _rateBytesPerSecond) - _rateWindow.Elapsed;
        }

        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, _stopping.Token).ConfigureAwait(false);
        }
    }

    /// <summary>Closes with a reset (linger 0), as a cut cable or a crashed peer looks to the other side.</summary>
    private static void Abort(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0);
            socket.Close();
        }
        catch (ObjectDisposedException)
        {
            // Already closed.
        }
    }
}
