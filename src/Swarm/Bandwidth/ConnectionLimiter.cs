using P2PRegistry.Core.MetaInfos;

namespace P2PRegistry.Swarm.Bandwidth;

/// <summary>
/// Caps peer connections per swarm and in total, so a popular blob cannot take every socket and a node
/// cannot be made to hold unbounded connections.
/// </summary>
internal sealed class ConnectionLimiter
{
    private readonly Lock _lock = new();
    private readonly Dictionary<InfoHash, int> _perSwarm = [];

    public ConnectionLimiter(int maxTotal, int maxPerSwarm)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTotal, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPerSwarm, 1);
        MaxTotal = maxTotal;
        MaxPerSwarm = maxPerSwarm;
    }

    public int MaxTotal { get; }

    public int MaxPerSwarm { get; }

    public int Total { get; private set; }

    public int Count(InfoHash swarm)
    {
        lock (_lock)
        {
            return _perSwarm.GetValueOrDefault(swarm);
        }
    }

    /// <summary>Whether one more connection to the swarm fits; if so it is counted until <see cref="Release"/>.</summary>
    public bool TryAcquire(InfoHash swarm)
    {
        lock (_lock)
        {
            var current = _perSwarm.GetValueOrDefault(swarm);
            if (Total >= MaxTotal || current >= MaxPerSwarm)
            {
                return false;
            }

            _perSwarm[swarm] = current + 1;
            Total++;
            return true;
        }
    }

    public void Release(InfoHash swarm)
    {
        lock (_lock)
        {
            if (!_perSwarm.TryGetValue(swarm, out var current))
            {
                return;
            }

            if (current <= 1)
            {
                _perSwarm.Remove(swarm);
            }
            else
            {
                _perSwarm[swarm] = current - 1;
            }

            Total--;
        }
    }
}
