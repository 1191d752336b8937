using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using P2PRegistry.Origin.Configuration;

namespace P2PRegistry.Origin.Upstream;

/// <summary>
/// Upstream 404s remembered briefly (<c>Origin:UpstreamNotFoundCacheTime</c>), per upstream, repository and
/// reference (tag or digest): a stream of requests for something missing — a typo'd tag in a crash-looping pod's
/// spec, a scanner — is answered from memory instead of costing the upstream (and our rate limit there) one
/// request each. Bounded in entries; past the bound the entries expiring soonest go.
/// </summary>
internal sealed class NotFoundCache
{
    private readonly ConcurrentDictionary<string, DateTimeOffset> _entries = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly TimeSpan _lifetime;
    private readonly int _maxEntries;
    private readonly Lock _trimming = new();

    public NotFoundCache(IOptions<OriginOptions> options, TimeProvider time)
    {
        _time = time;
        _lifetime = options.Value.UpstreamNotFoundCacheTime;
        _maxEntries = options.Value.UpstreamNotFoundCacheEntries;
    }

    public int Count => _entries.Count;

    public bool Contains(string upstream, string repository, string reference)
    {
        var key = Key(upstream, repository, reference);
        if (!_entries.TryGetValue(key, out var expiresAt))
        {
            return false;
        }

        if (_time.GetUtcNow() < expiresAt)
        {
            return true;
        }

        _entries.TryRemove(new KeyValuePair<string, DateTimeOffset>(key, expiresAt));
        return false;
    }

    public void Add(string upstream, string repository, string reference)
    {
        if (_lifetime <= TimeSpan.Zero)
        {
            return;
        }

        var now = _time.GetUtcNow();
        _entries[Key(upstream, repository, reference)] = now + _lifetime;
        if (_entries.Count > _maxEntries)
        {
            Trim(now);
        }
    }

    /// <summary>Something arrived under this name (a fill or pull succeeded after all): forget the 404.</summary>
    public void Remove(string upstream, string repository, string reference) => _entries.TryRemove(Key(upstream, repository, reference), out _);

    private void Trim(DateTimeOffset now)
    {
        lock (_trimming)
        {
            foreach (var (key, expiresAt) in _entries)
            {
                if (expiresAt <= now)
                {
                    _entries.TryRemove(new KeyValuePair<string, DateTimeOffset>(key, expiresAt));
                }
            }

            var excess = _entries.Count - _maxEntries;
            if (excess > 0)
            {
                // All entries live equally long, so the soonest to expire are the oldest. Trim to 90% to amortise.
                foreach (var (key, expiresAt) in _entries.ToArray().OrderBy(e => e.Value).Take(excess + (_maxEntries / 10)))
                {
                    _entries.TryRemove(new KeyValuePair<string, DateTimeOffset>(key, expiresAt));
                }
            }
        }
    }

    private static string Key(string upstream, string repository, string reference) => $"{upstream}\n{repository}\n{reference}";
}
