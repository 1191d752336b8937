using System.Net;
using P2PRegistry.Core.Wire;

namespace P2PRegistry.Swarm.Peers;

/// <summary>
/// Peers refused for a while because they sent a piece that failed its hash. Both the peer id and the
/// listening address are kept: an inbound connection shows only an ephemeral port, and several peers may
/// share an address (one host, many agents in tests or behind NAT).
/// </summary>
internal sealed class PeerBlacklist
{
    private readonly TimeProvider _time;
    private readonly TimeSpan _duration;
    private readonly Lock _lock = new();
    private readonly Dictionary<PeerId, DateTimeOffset> _ids = [];
    private readonly Dictionary<IPEndPoint, DateTimeOffset> _endPoints = [];

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
                return _ids.Count + _endPoints.Count;
            }
        }
    }

    public void Add(PeerId? id, IPEndPoint? endPoint)
    {
        var until = _time.GetUtcNow() + _duration;
        lock (_lock)
        {
            if (id is { } peerId)
            {
                _ids[peerId] = until;
            }

            if (endPoint is not null)
            {
                _endPoints[endPoint] = until;
            }
        }
    }

    public bool Contains(PeerId id) => Contains(_ids, id);

    public bool Contains(IPEndPoint endPoint) => Contains(_endPoints, endPoint);

    private bool Contains<TKey>(Dictionary<TKey, DateTimeOffset> entries, TKey key)
        where TKey : notnull
    {
        lock (_lock)
        {
            if (!entries.TryGetValue(key, out var until))
            {
                return false;
            }

            if (until > _time.GetUtcNow())
            {
                return true;
            }

            entries.Remove(key);
            return false;
        }
    }
}
