using System.Net;

namespace P2PRegistry.Swarm.Peers;

/// <summary>
/// Addresses refused in one swarm for a while because a piece that only they sent failed its hash. Keyed by what
/// this node observed (an IPv4-mapped IPv6 address as its IPv4 address), never by the peer id the remote claims (anyone can claim anyone's id): the address the
/// socket reached, with the port the peer listens on when known (dialled, or advertised on that address) so several
/// peers behind one address (one host, many agents) are told apart; port 0 refuses the whole address. Bounded: past
/// <see cref="MaxEntries"/> the entry closest to expiry goes.
/// </summary>
internal sealed class PeerBlacklist
{
    public const int MaxEntries = 1024;

    private readonly TimeProvider _time;
    private readonly TimeSpan _duration;
    private readonly Lock _lock = new();
    private readonly Dictionary<(IPAddress Address, int Port), DateTimeOffset> _entries = [];

    public PeerBlacklist(TimeProvider time, TimeSpan duration)
    {
        _time = time;
        _duration = duration;
    }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                RemoveExpired(_time.GetUtcNow());
                return _entries.Count;
            }
        }
    }

    /// <summary>Refuses the peer listening on <paramref name="port"/> at <paramref name="address"/> (0: any port there).</summary>
    public void Add(IPAddress address, int port)
    {
        ArgumentNullException.ThrowIfNull(address);
        address = Bandwidth.ConnectionLimiter.Normalize(address);
        var now = _time.GetUtcNow();
        lock (_lock)
        {
            if (_entries.Count >= MaxEntries && !_entries.ContainsKey((address, port)))
            {
                RemoveExpired(now);
                if (_entries.Count >= MaxEntries)
                {
                    _entries.Remove(_entries.MinBy(static e => e.Value).Key);
                }
            }

            _entries[(address, port)] = now + _duration;
        }
    }

    /// <summary>True when the address is refused as a whole, or the peer listening on <paramref name="port"/> there.</summary>
    public bool Contains(IPAddress address, int port)
    {
        address = Bandwidth.ConnectionLimiter.Normalize(address);
        lock (_lock)
        {
            if (_entries.Count == 0)
            {
                return false;
            }

            var now = _time.GetUtcNow();
            return IsActive((address, 0), now) || (port != 0 && IsActive((address, port), now));
        }
    }

    private bool IsActive((IPAddress, int) key, DateTimeOffset now)
    {
        if (!_entries.TryGetValue(key, out var until))
        {
            return false;
        }

        if (until > now)
        {
            return true;
        }

        _entries.Remove(key);
        return false;
    }

    private void RemoveExpired(DateTimeOffset now)
    {
        foreach (var (key, until) in _entries)
        {
            if (until <= now)
            {
                _entries.Remove(key);
            }
        }
    }
}
