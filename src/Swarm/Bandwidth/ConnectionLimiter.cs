using System.Net;
using P2PRegistry.Core.MetaInfos;

namespace P2PRegistry.Swarm.Bandwidth;

/// <summary>
/// Caps peer connections, so a popular blob cannot take every socket, a node cannot be made to hold unbounded
/// connections, and one address (an attacker, or a broken peer that reconnects in a loop) cannot take the peer
/// port from everyone else.
/// </summary>
/// <remarks>
/// Two stages, counted apart. A <em>pending</em> connection is an inbound one accepted and not yet past its
/// handshake: capped in total and per address, and refused at accept, before it costs more than a socket. An
/// <em>established</em> connection (a session, or a dial in progress) is capped in total, per swarm and per
/// address across all swarms. An address is the peer's IP address (an IPv4-mapped IPv6 address counts as its
/// IPv4 address, so a dual-mode port counts a peer once); a connection without one (tests over in-memory pipes)
/// is counted in total and per swarm only.
/// </remarks>
internal sealed class ConnectionLimiter
{
    private readonly Lock _lock = new();
    private readonly Dictionary<InfoHash, int> _perSwarm = [];
    private readonly Dictionary<IPAddress, int> _perAddress = [];
    private readonly Dictionary<IPAddress, int> _pendingPerAddress = [];

    public ConnectionLimiter(int maxTotal, int maxPerSwarm, int maxPerAddress = int.MaxValue, int maxPending = int.MaxValue, int maxPendingPerAddress = int.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTotal, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPerSwarm, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPerAddress, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPending, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPendingPerAddress, 1);
        MaxTotal = maxTotal;
        MaxPerSwarm = maxPerSwarm;
        MaxPerAddress = maxPerAddress;
        MaxPending = maxPending;
        MaxPendingPerAddress = maxPendingPerAddress;
    }

    public int MaxTotal { get; }

    public int MaxPerSwarm { get; }

    public int MaxPerAddress { get; }

    public int MaxPending { get; }

    public int MaxPendingPerAddress { get; }

    /// <summary>Established connections (and dials in progress).</summary>
    public int Total { get; private set; }

    /// <summary>Inbound connections not yet past their handshake.</summary>
    public int Pending { get; private set; }

    public int Count(InfoHash swarm)
    {
        lock (_lock)
        {
            return _perSwarm.GetValueOrDefault(swarm);
        }
    }

    /// <summary>Established connections with <paramref name="address"/>, across all swarms.</summary>
    public int Count(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        lock (_lock)
        {
            return _perAddress.GetValueOrDefault(Normalize(address));
        }
    }

    /// <summary>Inbound connections from <paramref name="address"/> not yet past their handshake.</summary>
    public int PendingCount(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        lock (_lock)
        {
            return _pendingPerAddress.GetValueOrDefault(Normalize(address));
        }
    }

    /// <summary>Which established-connection limits one more connection for <paramref name="swarm"/> from <paramref name="address"/> would pass.</summary>
    public (bool Total, bool PerSwarm, bool PerAddress) Exceeded(InfoHash swarm, IPAddress? address)
    {
        var key = address is null ? null : Normalize(address);
        lock (_lock)
        {
            return (Total >= MaxTotal, _perSwarm.GetValueOrDefault(swarm) >= MaxPerSwarm,
                key is not null && _perAddress.GetValueOrDefault(key) >= MaxPerAddress);
        }
    }

    /// <summary>
    /// Counts a connection past the limits: one that replaces a peer just dropped to make room (its release, moments
    /// later, brings the counts back within the limits).
    /// </summary>
    public void AcquireReplacing(InfoHash swarm, IPAddress? address)
    {
        var key = address is null ? null : Normalize(address);
        lock (_lock)
        {
            _perSwarm[swarm] = _perSwarm.GetValueOrDefault(swarm) + 1;
            if (key is not null)
            {
                _perAddress[key] = _perAddress.GetValueOrDefault(key) + 1;
            }

            Total++;
        }
    }

    /// <summary>
    /// Whether one more connection to the swarm, with <paramref name="address"/> (null: not counted per address), fits;
    /// if so it is counted until <see cref="Release"/> with the same arguments. Otherwise <paramref name="refusal"/> says
    /// which limit it hit.
    /// </summary>
    public bool TryAcquire(InfoHash swarm, IPAddress? address, out ConnectionRefusal refusal)
    {
        var key = address is null ? null : Normalize(address);
        lock (_lock)
        {
            var current = _perSwarm.GetValueOrDefault(swarm);
            var fromAddress = key is null ? 0 : _perAddress.GetValueOrDefault(key);
            refusal = Total >= MaxTotal ? ConnectionRefusal.Total
                : current >= MaxPerSwarm ? ConnectionRefusal.PerSwarm
                : key is not null && fromAddress >= MaxPerAddress ? ConnectionRefusal.PerAddress
                : ConnectionRefusal.None;
            if (refusal != ConnectionRefusal.None)
            {
                return false;
            }

            _perSwarm[swarm] = current + 1;
            if (key is not null)
            {
                _perAddress[key] = fromAddress + 1;
            }

            Total++;
            return true;
        }
    }

    public void Release(InfoHash swarm, IPAddress? address)
    {
        lock (_lock)
        {
            if (!Decrement(_perSwarm, swarm))
            {
                return;
            }

            if (address is not null)
            {
                Decrement(_perAddress, Normalize(address));
            }

            Total--;
        }
    }

    /// <summary>
    /// Whether one more inbound connection from <paramref name="address"/> may wait for its handshake; if so it is
    /// counted until <see cref="ReleasePending"/>. Otherwise <paramref name="refusal"/> says which limit it hit.
    /// </summary>
    public bool TryAcquirePending(IPAddress address, out ConnectionRefusal refusal)
    {
        ArgumentNullException.ThrowIfNull(address);
        var key = Normalize(address);
        lock (_lock)
        {
            var fromAddress = _pendingPerAddress.GetValueOrDefault(key);
            refusal = Pending >= MaxPending ? ConnectionRefusal.PendingTotal
                : fromAddress >= MaxPendingPerAddress ? ConnectionRefusal.PendingPerAddress
                : ConnectionRefusal.None;
            if (refusal != ConnectionRefusal.None)
            {
                return false;
            }

            _pendingPerAddress[key] = fromAddress + 1;
            Pending++;
            return true;
        }
    }

    public void ReleasePending(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        lock (_lock)
        {
            if (Decrement(_pendingPerAddress, Normalize(address)))
            {
                Pending--;
            }
        }
    }

    /// <summary>The address a peer is counted under: an IPv4-mapped IPv6 address (a dual-mode port's view of an IPv4 peer) as IPv4.</summary>
    internal static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    private static bool Decrement<TKey>(Dictionary<TKey, int> counts, TKey key)
        where TKey : notnull
    {
        if (!counts.TryGetValue(key, out var current))
        {
            return false;
        }

        if (current <= 1)
        {
            counts.Remove(key);
        }
        else
        {
            counts[key] = current - 1;
        }

        return true;
    }
}
