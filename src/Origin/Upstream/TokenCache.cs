using System.Collections.Concurrent;

namespace P2PRegistry.Origin.Upstream;

/// <summary>
/// Bearer tokens per (realm, service, scope), each kept until shortly before it expires: the registry token
/// flow hands out tokens for 60 s by default and re-fetching one per request doubles the round trips.
/// </summary>
public sealed class TokenCache(TimeProvider time)
{
    /// <summary>A token is dropped this long before its stated expiry, so a request never carries a dying one.</summary>
    public static readonly TimeSpan SafetyMargin = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<string, (string Token, DateTimeOffset ExpiresAt)> _tokens = new(StringComparer.Ordinal);

    public static string Key(string realm, string? service, string scope) => $"{realm}\n{service}\n{scope}";

    public bool TryGet(string key, out string token)
    {
        if (_tokens.TryGetValue(key, out var entry) && time.GetUtcNow() < entry.ExpiresAt)
        {
            token = entry.Token;
            return true;
        }

        token = "";
        return false;
    }

    public void Set(string key, string token, TimeSpan lifetime)
    {
        var usable = lifetime - SafetyMargin;
        if (usable <= TimeSpan.Zero)
        {
            // Too short-lived to reuse: keep it for this request only.
            _tokens.TryRemove(key, out _);
            return;
        }

        _tokens[key] = (token, time.GetUtcNow() + usable);
    }

    public void Invalidate(string key) => _tokens.TryRemove(key, out _);
}
