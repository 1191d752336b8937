using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using P2PRegistry.Origin.Configuration;
using P2PRegistry.Origin.Diagnostics;
using P2PRegistry.Origin.Upstream;

namespace P2PRegistry.Origin.Tests.Upstream;

/// <summary>The token cache and the upstream-404 cache stay bounded in entries and in time, and the redaction rules.</summary>
public sealed class BoundedCacheTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    [Fact]
    public void TokenCache_ManyScopes_StaysWithinItsEntryBound_KeepingTheLongestLived()
    {
        var cache = new TokenCache(_time, maxEntries: 100);
        for (var i = 0; i < 10_000; i++)
        {
            cache.Set($"scope-{i}", $"token-{i}", TimeSpan.FromSeconds(60 + i));
        }

        Assert.InRange(cache.Count, 1, 100);
        Assert.True(cache.TryGet("scope-9999", out var newest));
        Assert.Equal("token-9999", newest);
        Assert.False(cache.TryGet("scope-0", out _));
    }

    [Fact]
    public void TokenCache_IssuerClaimsAYear_TokenIsReusedAtMostTheMaxLifetime()
    {
        var cache = new TokenCache(_time, maxEntries: 10, maxLifetime: TimeSpan.FromMinutes(5));
        cache.Set("k", "t", TimeSpan.FromDays(365));

        _time.Advance(TimeSpan.FromMinutes(4));
        Assert.True(cache.TryGet("k", out _));
        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.False(cache.TryGet("k", out _));
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void NotFoundCache_RemembersA404ForItsLifetimeOnly_PerUpstreamRepositoryAndReference()
    {
        var cache = NotFound(TimeSpan.FromSeconds(30), 100);
        cache.Add("up", "team/app", "v9");

        Assert.True(cache.Contains("up", "team/app", "v9"));
        Assert.False(cache.Contains("up", "team/app", "v1"));
        Assert.False(cache.Contains("up", "team/other", "v9"));
        Assert.False(cache.Contains("other.up", "team/app", "v9"));
        _time.Advance(TimeSpan.FromSeconds(29));
        Assert.True(cache.Contains("up", "team/app", "v9"));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(cache.Contains("up", "team/app", "v9"));
    }

    [Fact]
    public void NotFoundCache_AStreamOfDistinctMisses_StaysWithinItsEntryBound()
    {
        var cache = NotFound(TimeSpan.FromSeconds(30), 1_000);
        for (var i = 0; i < 50_000; i++)
        {
            _time.Advance(TimeSpan.FromTicks(1));
            cache.Add("up", "team/app", $"missing-{i}");
        }

        Assert.InRange(cache.Count, 1, 1_000);
        Assert.True(cache.Contains("up", "team/app", "missing-49999"));
    }

    [Fact]
    public void NotFoundCache_ZeroLifetime_RemembersNothing()
    {
        var cache = NotFound(TimeSpan.Zero, 10);
        cache.Add("up", "team/app", "v9");
        Assert.False(cache.Contains("up", "team/app", "v9"));
    }

    [Theory]
    [InlineData("https://alice:s3cret@registry.example.com/", "https://***@registry.example.com/")]
    [InlineData("got 'http://u:p@10.0.0.1:5000' and 'https://x:y@a.b/c'", "got 'http://***@10.0.0.1:5000' and 'https://***@a.b/c'")]
    [InlineData("https://token-only@host/path", "https://***@host/path")]
    [InlineData("https://registry.example.com/v2/?a=b@c", "https://registry.example.com/v2/?a=b@c")]
    [InlineData("plain text, no url", "plain text, no url")]
    public void Redact_UserInfo_HidesTheUserInfoOfEveryUrl(string text, string expected) =>
        Assert.Equal(expected, Redact.UserInfo(text));

    [Fact]
    public void Redact_Url_DropsUserInfoAndQuery()
    {
        Assert.Equal("https://cdn.example.com:8443/blobs/x", Redact.Url(new Uri("https://u:p@cdn.example.com:8443/blobs/x?X-Amz-Signature=secret#f")));
    }

    private NotFoundCache NotFound(TimeSpan lifetime, int entries) =>
        new(Options.Create(new OriginOptions { UpstreamNotFoundCacheTime = lifetime, UpstreamNotFoundCacheEntries = entries }), _time);
}
