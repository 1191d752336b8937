using System.Diagnostics.CodeAnalysis;
using System.Net;
using P2PRegistry.Core.Content;
using P2PRegistry.Core.MetaInfos;

namespace P2PRegistry.Tracker.MetaInfos;

/// <summary>
/// The metainfos fetched so far, found by digest or by info hash, least recently used evicted first once
/// their encoded size passes the capacity (a 1 GiB blob in 1 MiB pieces costs about 20 KiB).
/// </summary>
internal sealed class MetaInfoCache
{
    private readonly Lock _lock = new();
    private readonly Dictionary<Digest, LinkedListNode<MetaInfo>> _byDigest = [];
    private readonly Dictionary<InfoHash, LinkedListNode<MetaInfo>> _byInfoHash = [];
    private readonly LinkedList<MetaInfo> _recency = new();

    // The origin seeding each swarm, learnt with its metainfo and forgotten with it: it is not an announce, so it
    // does not expire with the announce TTL (the origin never announces; it holds thousands of blobs).
    private readonly Dictionary<InfoHash, IPEndPoint[]> _originPeers = [];
    private readonly long _capacityBytes;
    private long _sizeBytes;

    public MetaInfoCache(long capacityBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacityBytes, 1);
        _capacityBytes = capacityBytes;
    }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _byDigest.Count;
            }
        }
    }

    public bool TryGet(Digest digest, [NotNullWhen(true)] out MetaInfo? metaInfo)
    {
        lock (_lock)
        {
            return TryTouch(_byDigest.GetValueOrDefault(digest), out metaInfo);
        }
    }

    public bool TryGet(InfoHash infoHash, [NotNullWhen(true)] out MetaInfo? metaInfo)
    {
        lock (_lock)
        {
            return TryTouch(_byInfoHash.GetValueOrDefault(infoHash), out metaInfo);
        }
    }

    /// <summary>The origin peer that seeds this swarm, known while its metainfo is cached.</summary>
    public bool TryGetOriginPeer(InfoHash infoHash, [NotNullWhen(true)] out IPEndPoint? originPeer)
    {
        lock (_lock)
        {
            originPeer = _originPeers.TryGetValue(infoHash, out var peers) ? peers[0] : null;
            return originPeer is not null;
        }
    }

    /// <summary>Every origin that seeds this swarm (a cluster's replicas, best first), known while its metainfo is cached.</summary>
    public IReadOnlyList<IPEndPoint> OriginPeers(InfoHash infoHash)
    {
        lock (_lock)
        {
            return _originPeers.TryGetValue(infoHash, out var peers) ? peers : [];
        }
    }

    public void Add(MetaInfo metaInfo, IPEndPoint? originPeer = null) => Add(metaInfo, originPeer is null ? [] : [originPeer]);

    public void Add(MetaInfo metaInfo, IReadOnlyList<IPEndPoint> originPeers)
    {
        lock (_lock)
        {
            if (originPeers.Count > 0)
            {
                _originPeers[metaInfo.InfoHash] = [.. originPeers];
            }

            if (_byDigest.TryGetValue(metaInfo.Digest, out var existing))
            {
                _recency.Remove(existing);
                _recency.AddFirst(existing);
                return;
            }

            var node = _recency.AddFirst(metaInfo);
            _byDigest.Add(metaInfo.Digest, node);
            _byInfoHash[metaInfo.InfoHash] = node;
            _sizeBytes += metaInfo.Encoded.Length;

            // Keep at least the newest entry, however large: the caller is about to use it.
            while (_sizeBytes > _capacityBytes && _recency.Last is { } oldest && oldest != node)
            {
                _recency.RemoveLast();
                _byDigest.Remove(oldest.Value.Digest);
                _byInfoHash.Remove(oldest.Value.InfoHash);
                _originPeers.Remove(oldest.Value.InfoHash);
                _sizeBytes -= oldest.Value.Encoded.Length;
            }
        }
    }

    private bool TryTouch(LinkedListNode<MetaInfo>? node, [NotNullWhen(true)] out MetaInfo? metaInfo)
    {
        if (node is null)
        {
            metaInfo = null;
            return false;
        }

        _recency.Remove(node);
        _recency.AddFirst(node);
        metaInfo = node.Value;
        return true;
    }
}
