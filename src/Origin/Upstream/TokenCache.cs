using System.Collections.Concurrent;

namespace P2PRegistry.Origin.Upstream;

/// <summary>
/// Bearer tokens per (realm, service, scope), each kept until shortly before it expires: the registry token
/// flow hands out tokens for 60 s by default and re-fetching one per request doubles the round trips.
/// Bounded: at most <c>maxEntries</c> tokens (every repository pulled is a scope, so a stream of pulls of
/// distinct names would grow it without end), each reused at most <c>maxLifetime</c> whatever its issuer claims.
/// </summary>
public sealed class TokenCache(TimeProvider time, int maxEntries = 1_000, TimeSpan? maxLifetime = null)
{
    /// <summary>A token is dropped this long before its stated expiry, so a request never carries a dying one.</summary>
    public static readonly TimeSpan SafetyMargin = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<string, (string Token, DateTimeOffset ExpiresAt)> _tokens = new(StringComparer.Ordinal);
    private readonly TimeSpan _maxLifetime = maxLifetime ?? TimeSpan.FromMinutes(30);
    private readonly Lock _trimming = new();

    public int Count => _tokens.Count;

    public static string Key(string realm, string? service, string scope) => $"{realm}\n{service}\n{scope}";

    public bool TryGet(string key, out string token)
    {
        if (_tokens.TryGetValue(key, out var entry))
        {
            if (time.GetUtcNow() < entry.ExpiresAt)
            {
                token = entry.Token;
                return true;
            }

            _tokens.TryRemove(new KeyValuePair<string, (string, DateTimeOffset)>(key, entry));
        }

        token = "";
        return false;
    }

    public void Set(string key, string token, TimeSpan lifetime)
    {
        var usable = (lifetime < _maxLifetime ? lifetime : _maxLifetime) - SafetyMargin;
        if (usable <= TimeSpan.Zero)
        {
            // Too short-lived to reuse: keep it for this request only.
            _tokens.TryRemove(key, out _);
            return;
        }

        var now = time.GetUtcNow();
        _tokens[key] = (token, now + usable);
        if (_tokens.Count > maxEntries)
        {
            Trim(now);
        }
    }

    public void Invalidate(string key) => _tokens.TryRemove(key, out _);

    /// <summary>Drops expired tokens, then those expiring soonest, until the cache is back to its bound.</summary>
    private void Trim(DateTimeOffset now)
    {
        lock (_trimming)
        {
            foreach (var (key, entry) in _tokens)
            {
                if (entry.ExpiresAt <= now)
                {
                    _tokens.TryRemove(new KeyValuePair<string, (string, DateTimeOffset)>(key, entry));
                }
            }

            var excess = _tokens.Count - maxEntries;
            if (excess <= 0)
            {
                return;
            }

            // O(n log n) per trim, amortised: trim to 90% so the next few inserts do not trim again.
            excess += maxEntries / 10;
            foreach (var (key, entry) in _tokens.ToArray().OrderBy(e => e.Value.ExpiresAt).Take(excess))
            {
                _tokens.TryRemove(new KeyValuePair<string, (string, DateTimeOffset)>(key, entry));
            }
        }
    }
}
