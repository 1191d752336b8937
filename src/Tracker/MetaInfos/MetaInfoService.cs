using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using P2PRegistry.Core.Content;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Tracker.Diagnostics;

namespace P2PRegistry.Tracker.MetaInfos;

/// <summary>
/// Metainfo by digest: from the cache, else from the origin with one request per digest however many callers
/// ask at once (a rollout to 500 nodes asks for the same layers at the same moment). For announces
/// (<c>rememberMisses</c>) the origin's 404 is remembered for <see cref="MissTime"/> (at most <see cref="MaxMisses"/>
/// digests): a flood of announces naming unknown digests costs the origin one request per digest per period, not one
/// per announce. Metainfo requests do not use it: a blob being pulled through answers 404 until its fill completes,
/// and an agent asking right after must get the metainfo.
/// </summary>
internal sealed class MetaInfoService(
    OriginMetaInfoClient origin,
    MetaInfoCache cache,
    KnownInfoHashes known,
    TrackerMetrics metrics,
    TimeProvider time,
    ILogger<MetaInfoService> logger)
{
    /// <summary>How long the origin's "not found" for a digest is answered without asking again.</summary>
    public static readonly TimeSpan MissTime = TimeSpan.FromSeconds(10);

    /// <summary>Digests whose "not found" is remembered at once; past it the oldest are forgotten.</summary>
    public const int MaxMisses = 10_000;

    private readonly ConcurrentDictionary<(Digest Digest, string Ns), Lazy<Task<MetaInfo>>> _inFlight = new();
    private readonly ConcurrentDictionary<(Digest Digest, string Ns), long> _misses = new();

    public async ValueTask<MetaInfo> GetAsync(Digest digest, string? ns, CancellationToken cancellationToken, bool rememberMisses = false)
    {
        if (cache.TryGet(digest, out var cached))
        {
            metrics.CacheHit();
            return cached;
        }

        // Keyed by namespace too: the metainfo of a digest is the same everywhere, but whether the origin can find
        // (pull through) the blob depends on the namespace, so one caller's 404 must not answer another's.
        var key = (digest, ns ?? string.Empty);
        if (rememberMisses && _misses.TryGetValue(key, out var missedAt))
        {
            if (time.GetElapsedTime(missedAt) < MissTime)
            {
                throw new MetaInfoException(digest, MetaInfoFailure.NotFound, $"The origin answered 404 for the metainfo of {digest} within the last {MissTime.TotalSeconds:0} s.");
            }

            _misses.TryRemove(new KeyValuePair<(Digest, string), long>(key, missedAt));
        }

        var flight = _inFlight.GetOrAdd(key, static (key, self) => new Lazy<Task<MetaInfo>>(() => self.FetchAsync(key)), this);

        // The fetch belongs to no single caller: one caller giving up must not fail the others.
        try
        {
            return await flight.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (MetaInfoException ex) when (rememberMisses && ex.Failure == MetaInfoFailure.NotFound)
        {
            RememberMiss(key);
            throw;
        }
    }

    /// <summary>A metainfo already fetched, without asking the origin.</summary>
    public bool TryGetCached(Digest digest, [NotNullWhen(true)] out MetaInfo? metaInfo) => cache.TryGet(digest, out metaInfo);

    /// <summary>Whether the info hash is of a blob the origin holds, as far as the tracker has learnt.</summary>
    public bool IsKnown(InfoHash infoHash) => known.Contains(infoHash) || cache.TryGet(infoHash, out _);

    /// <summary>Remembers an info hash an authenticated origin announced.</summary>
    public void AddKnown(InfoHash infoHash) => known.Add(infoHash);

    public bool TryGetByInfoHash(InfoHash infoHash, [NotNullWhen(true)] out MetaInfo? metaInfo) => cache.TryGet(infoHash, out metaInfo);

    private async Task<MetaInfo> FetchAsync((Digest Digest, string Ns) key)
    {
        // Yield first so the Lazy's factory returns at once and the entry is removed only after the fetch completes.
        await Task.Yield();
        try
        {
            // A caller that arrived after the last fetch filled the cache but before it left the in-flight map.
            if (cache.TryGet(key.Digest, out var cached))
            {
                metrics.CacheHit();
                return cached;
            }

            var fetched = await origin.FetchAsync(key.Digest, key.Ns.Length == 0 ? null : key.Ns, CancellationToken.None).ConfigureAwait(false);
            var metaInfo = fetched.MetaInfo;
            cache.Add(metaInfo, fetched.AllOriginPeers);
            known.Add(metaInfo.InfoHash);
            metrics.OriginFetch("ok");
            logger.MetaInfoFetched(key.Digest, metaInfo.InfoHash, metaInfo.PieceCount);
            return metaInfo;
        }
        catch (MetaInfoException ex)
        {
            switch (ex.Failure)
            {
                case MetaInfoFailure.NotFound:
                    metrics.OriginFetch("not_found");
                    logger.MetaInfoNotFound(key.Digest);
                    break;
                case MetaInfoFailure.Unavailable:
                    metrics.OriginFetch("unavailable");
                    logger.OriginUnavailable(key.Digest, ex.Message);
                    break;
                default:
                    metrics.OriginFetch("invalid");
                    logger.OriginInvalidMetaInfo(key.Digest, ex.Message);
                    break;
            }

            throw;
        }
        finally
        {
            // Other failures (the origin down, a bad answer) are not remembered: the next caller asks again.
            _inFlight.TryRemove(key, out _);
        }
    }

    private void RememberMiss((Digest Digest, string Ns) key)
    {
        if (_misses.Count >= MaxMisses)
        {
            // Bounded: expired entries go first; if all are fresh (a flood of distinct digests), the oldest half goes.
            var now = time.GetTimestamp();
            foreach (var (k, at) in _misses)
            {
                if (time.GetElapsedTime(at, now) >= MissTime)
                {
                    _misses.TryRemove(new KeyValuePair<(Digest, string), long>(k, at));
                }
            }

            if (_misses.Count >= MaxMisses)
            {
                foreach (var (k, at) in _misses.OrderBy(e => e.Value).Take(MaxMisses / 2).ToArray())
                {
                    _misses.TryRemove(new KeyValuePair<(Digest, string), long>(k, at));
                }
            }
        }

        _misses[key] = time.GetTimestamp();
    }
}
