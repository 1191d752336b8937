using System.Net;
using System.Net.Sockets;

using P2PRegistry.Hosting;

namespace P2PRegistry.Origin.Authorization;

/// <summary>
/// Counts failed credential checks per client address in fixed windows: past <c>maxFailures</c> in one window the
/// address is refused until the window ends, without its credentials being checked (a brute force then costs the
/// origin no bcrypt work). A success does not reset the count, so a holder of one valid credential cannot interleave
/// guesses at another. IPv6 clients are counted by /64 (one host usually owns a whole /64). The table holds at most
/// <c>maxClients</c> addresses: when full, expired windows go first, then the oldest window.
/// </summary>
internal sealed class FailedAttemptLimiter
{
    private readonly int _maxFailures;
    private readonly TimeSpan _window;
    private readonly int _maxClients;
    private readonly TimeProvider _time;
    private readonly Dictionary<IPAddress, Window> _windows = [];
    private readonly Lock _lock = new();

    public FailedAttemptLimiter(int maxFailures, TimeSpan window, int maxClients, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxFailures, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxClients, 1);
        _maxFailures = maxFailures;
        _window = window;
        _maxClients = maxClients;
        _time = time;
    }

    public int TrackedClients
    {
        get
        {
            lock (_lock)
            {
                return _windows.Count;
            }
        }
    }

    /// <summary>True when <paramref name="client"/> used up its failures; <paramref name="retryAfter"/> is the rest of its window.</summary>
    public bool IsBlocked(IPAddress? client, out TimeSpan retryAfter)
    {
        retryAfter = TimeSpan.Zero;
        var key = Key(client);
        var now = _time.GetUtcNow();
        lock (_lock)
        {
            if (!_windows.TryGetValue(key, out var window) || now >= window.Start + _window || window.Failures < _maxFailures)
            {
                return false;
            }

            retryAfter = window.Start + _window - now;
            return true;
        }
    }

    /// <summary>Counts one failure; true when it used up the client's allowance.</summary>
    public bool RecordFailure(IPAddress? client)
    {
        var key = Key(client);
        var now = _time.GetUtcNow();
        lock (_lock)
        {
            if (!_windows.TryGetValue(key, out var window) || now >= window.Start + _window)
            {
                if (!_windows.ContainsKey(key) && _windows.Count >= _maxClients)
                {
                    MakeRoom(now);
                }

                window = new Window(now, 0);
            }

            window = window with { Failures = window.Failures + 1 };
            _windows[key] = window;
            return window.Failures >= _maxFailures;
        }
    }

    private void MakeRoom(DateTimeOffset now)
    {
        foreach (var (address, window) in _windows)
        {
            if (now >= window.Start + _window)
            {
                _windows.Remove(address);
            }
        }

        if (_windows.Count >= _maxClients)
        {
            var oldest = _windows.MinBy(pair => pair.Value.Start).Key;
            _windows.Remove(oldest);
        }
    }

    /// <summary><see cref="ClientKey"/>; no address (a test server) as one shared key.</summary>
    internal static IPAddress Key(IPAddress? client) => client is null ? IPAddress.None : ClientKey.Of(client);

    private readonly record struct Window(DateTimeOffset Start, int Failures);
}
