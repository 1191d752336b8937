using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using P2PRegistry.Origin.Diagnostics;

namespace P2PRegistry.Origin.Upstream;

/// <summary>
/// Sends registry requests to one upstream with the distribution token flow: anonymous first; on 401 read
/// the <c>WWW-Authenticate</c> challenge, fetch a Bearer token for the scope (anonymously or with Basic
/// credentials) or use Basic directly, retry; on a second 401 fetch once more, then give up. Redirects
/// (Docker Hub sends blob GETs to a CDN) are followed without the token. 429 waits for <c>Retry-After</c>
/// within a bound.
/// Credentials go only to a token realm on a trusted host (<see cref="UpstreamRegistry.IsTrustedHost(Uri)"/>);
/// any other realm is asked for an anonymous token. A redirect to plain http on another host is refused unless
/// <c>AllowInsecureRedirects</c>; one to an internal address is refused at connect time by
/// <see cref="UpstreamConnector"/> unless <c>AllowPrivateRedirects</c>. URLs reach logs and errors only through
/// <see cref="Redact.Url"/>.
/// </summary>
public sealed class UpstreamClient
{
    public const int MaxRedirects = 5;
    public const int MaxRateLimitRetries = 3;
    private const int MaxTokenResponseBytes = 64 * 1024;

    private readonly HttpClient _http;
    private readonly UpstreamRegistry _upstream;
    private readonly TokenCache _tokens;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly TimeSpan _maxRetryAfter;

    // Where this upstream's tokens come from, learnt from its first challenge, so later requests can
    // present a cached token up front instead of paying a 401 round trip each time.
    private BearerChallenge? _lastBearerChallenge;

    /// <param name="http">A client whose handler does NOT follow redirects (this class follows them itself).</param>
    public UpstreamClient(HttpClient http, UpstreamRegistry upstream, TokenCache tokens, TimeProvider time, ILogger logger, TimeSpan? maxRetryAfter = null)
    {
        _http = http;
        _upstream = upstream;
        _tokens = tokens;
        _time = time;
        _logger = logger;
        _maxRetryAfter = maxRetryAfter ?? TimeSpan.FromSeconds(10);
    }

    public UpstreamRegistry Upstream => _upstream;

    /// <summary>
    /// Sends <c>method</c> to <c>/v2/{repository}/{tail}</c> with pull scope for the repository. The caller owns
    /// (and disposes) the returned response, which is read with headers only so a blob can be streamed.
    /// </summary>
    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string repository, string tail, IReadOnlyList<string> accept, CancellationToken cancellationToken)
    {
        var uri = new Uri(_upstream.Url, $"/v2/{repository}/{tail}");
        var scope = $"repository:{repository}:pull";
        AuthenticationHeaderValue? authorization = null;
        string? tokenKey = null;

        // Reuse a token issued for this scope earlier, if we know where tokens come from.
        if (_lastBearerChallenge is { } known && known.Realm is not null)
        {
            tokenKey = TokenCache.Key(known.Realm, known.Service, scope);
            if (_tokens.TryGet(tokenKey, out var cached))
            {
                authorization = new AuthenticationHeaderValue("Bearer", cached);
            }
        }

        var unauthorizedAttempts = 0;
        var rateLimitRetries = 0;
        while (true)
        {
            var response = await SendFollowingRedirectsAsync(method, uri, accept, authorization, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.Unauthorized)
            {
                var challenges = AuthChallenge.ParseAll(response.Headers.WwwAuthenticate.Select(h => h.ToString()));
                response.Dispose();
                if (++unauthorizedAttempts > 2)
                {
                    UpstreamLog.CredentialsRejected(_logger, _upstream.Name, $"still 401 for {scope} after fresh tokens");
                    throw new UpstreamException(UpstreamFailure.Unauthorized, _upstream.Name, $"access to {scope} denied (401 after {unauthorizedAttempts - 1} fresh tokens)");
                }

                if (tokenKey is not null)
                {
                    _tokens.Invalidate(tokenKey);
                }

                (authorization, tokenKey) = await AuthorizeAsync(challenges, scope, cancellationToken).ConfigureAwait(false);
                continue;
            }

            if (response.StatusCode == HttpStatusCode.TooManyRequests && rateLimitRetries < MaxRateLimitRetries)
            {
                var delay = RetryAfter(response) ?? TimeSpan.FromSeconds(1 << rateLimitRetries);
                response.Dispose();
                if (delay > _maxRetryAfter)
                {
                    throw new UpstreamException(UpstreamFailure.RateLimited, _upstream.Name, $"rate limited; Retry-After {delay.TotalSeconds:F0} s is longer than we wait");
                }

                rateLimitRetries++;
                UpstreamLog.RateLimited(_logger, _upstream.Name, delay.TotalSeconds);
                await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
                continue;
            }

            return response;
        }
    }

    private async Task<(AuthenticationHeaderValue Header, string? TokenKey)> AuthorizeAsync(IReadOnlyList<AuthChallenge> challenges, string scope, CancellationToken cancellationToken)
    {
        var bearer = challenges.FirstOrDefault(c => c.IsBearer && !string.IsNullOrEmpty(c["realm"]));
        if (bearer is not null)
        {
            var realm = bearer["realm"]!;
            var service = bearer["service"];
            _lastBearerChallenge = new BearerChallenge(realm, service);
            var key = TokenCache.Key(realm, service, scope);
            var token = await FetchTokenAsync(realm, service, scope, cancellationToken).ConfigureAwait(false);
            _tokens.Set(key, token.Value, token.Lifetime);
            return (new AuthenticationHeaderValue("Bearer", token.Value), key);
        }

        if (challenges.Any(c => c.IsBasic))
        {
            if (!_upstream.HasCredentials)
            {
                UpstreamLog.CredentialsRejected(_logger, _upstream.Name, "Basic authentication required and no credentials are configured");
                throw new UpstreamException(UpstreamFailure.Unauthorized, _upstream.Name, "requires credentials (Basic) and none are configured");
            }

            return (BasicHeader(), null);
        }

        throw new UpstreamException(UpstreamFailure.Unauthorized, _upstream.Name, "answered 401 without a usable WWW-Authenticate challenge");
    }

    private async Task<(string Value, TimeSpan Lifetime)> FetchTokenAsync(string realm, string? service, string scope, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(realm, UriKind.Absolute, out var realmUri) || realmUri.Scheme is not ("http" or "https"))
        {
            throw new UpstreamException(UpstreamFailure.Protocol, _upstream.Name, $"token realm '{Redact.UserInfo(realm.Split('?', 2)[0])}' is not an http(s) URL");
        }

        // The challenge names the realm, not our configuration: a plain-http one would carry our credentials (and the
        // token) in clear, whatever scheme the upstream's own Url has. Only an upstream allowed http may use one.
        if (realmUri.Scheme == Uri.UriSchemeHttp && !_upstream.AllowHttp)
        {
            var where = Redact.Url(realmUri);
            UpstreamLog.InsecureRealmRefused(_logger, _upstream.Name, where);
            throw new UpstreamException(UpstreamFailure.Unauthorized, _upstream.Name, $"token realm {where} is plain http and AllowHttp is not set for this upstream; nothing was sent to it");
        }

        var query = new StringBuilder(realmUri.Query.Length > 0 ? realmUri.Query[1..] + "&" : "");
        if (!string.IsNullOrEmpty(service))
        {
            query.Append("service=").Append(Uri.EscapeDataString(service)).Append('&');
        }

        query.Append("scope=").Append(Uri.EscapeDataString(scope));
        var tokenUri = new UriBuilder(realmUri) { Query = query.ToString() }.Uri;
        using var request = new HttpRequestMessage(HttpMethod.Get, tokenUri);
        // A challenge may name any realm: our credentials go only to the upstream's own host or a configured
        // TokenRealms host. Elsewhere the token is asked for anonymously (a public image still pulls).
        var withCredentials = _upstream.HasCredentials && _upstream.IsTrustedHost(realmUri);
        if (withCredentials)
        {
            request.Headers.Authorization = BasicHeader();
        }
        else if (_upstream.HasCredentials)
        {
            UpstreamLog.UntrustedRealm(_logger, _upstream.Name, Redact.Url(realmUri));
        }

        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex) when (ex.InnerException is InternalAddressRefusedException refused)
        {
            UpstreamLog.ConnectRefused(_logger, _upstream.Name, refused.Message);
            throw new UpstreamException(UpstreamFailure.Refused, _upstream.Name, $"token service {Redact.Url(realmUri)}: {refused.Message}", ex);
        }
        catch (HttpRequestException ex)
        {
            UpstreamLog.Unreachable(_logger, _upstream.Name, $"token service {realmUri.Authority}: {Redact.UserInfo(ex.Message)}");
            throw new UpstreamException(UpstreamFailure.Unreachable, _upstream.Name, $"token service {Redact.Url(realmUri)} unreachable", ex);
        }

        using (response)
        {
            if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            {
                var reason = withCredentials ? "the configured credentials were rejected by the token service"
                    : _upstream.HasCredentials ? $"the token service {Redact.Url(realmUri)} refused anonymous access (credentials are sent only to the upstream's host or its TokenRealms)"
                    : "the token service refused anonymous access";
                UpstreamLog.CredentialsRejected(_logger, _upstream.Name, $"{reason} ({(int)response.StatusCode})");
                throw new UpstreamException(UpstreamFailure.Unauthorized, _upstream.Name, $"{reason} ({(int)response.StatusCode})");
            }

            if (!response.IsSuccessStatusCode)
            {
                throw new UpstreamException(UpstreamFailure.Protocol, _upstream.Name, $"token service answered {(int)response.StatusCode}");
            }

            if (response.Content.Headers.ContentLength > MaxTokenResponseBytes)
            {
                throw new UpstreamException(UpstreamFailure.Protocol, _upstream.Name, "token response too large");
            }

            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            if (body.Length > MaxTokenResponseBytes)
            {
                throw new UpstreamException(UpstreamFailure.Protocol, _upstream.Name, "token response too large");
            }

            var token = ParseTokenResponse(body) ?? throw new UpstreamException(UpstreamFailure.Protocol, _upstream.Name, "token response has neither 'token' nor 'access_token'");
            UpstreamLog.TokenFetched(_logger, _upstream.Name, scope, (int)token.Lifetime.TotalSeconds);
            return token;
        }
    }

    /// <summary>Reads <c>token</c> or <c>access_token</c> and <c>expires_in</c> (60 s when absent, per the token spec).</summary>
    internal static (string Value, TimeSpan Lifetime)? ParseTokenResponse(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            string? value = null;
            if (root.TryGetProperty("token", out var t) && t.ValueKind == JsonValueKind.String)
            {
                value = t.GetString();
            }

            if (string.IsNullOrEmpty(value) && root.TryGetProperty("access_token", out var a) && a.ValueKind == JsonValueKind.String)
            {
                value = a.GetString();
            }

            if (string.IsNullOrEmpty(value))
            {
                return null;
            }

            var seconds = 60;
            if (root.TryGetProperty("expires_in", out var e) && e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out var s) && s > 0)
            {
                seconds = s;
            }

            return (value, TimeSpan.FromSeconds(seconds));
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private async Task<HttpResponseMessage> SendFollowingRedirectsAsync(HttpMethod method, Uri uri, IReadOnlyList<string> accept, AuthenticationHeaderValue? authorization, CancellationToken cancellationToken)
    {
        for (var hop = 0; hop <= MaxRedirects; hop++)
        {
            using var request = new HttpRequestMessage(method, uri);
            foreach (var type in accept)
            {
                request.Headers.Accept.ParseAdd(type);
            }

            // The token is for the registry only: a redirect target (a CDN) never sees it.
            if (hop == 0)
            {
                request.Headers.Authorization = authorization;
            }

            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException ex) when (ex.InnerException is InternalAddressRefusedException refused)
            {
                UpstreamLog.ConnectRefused(_logger, _upstream.Name, refused.Message);
                throw new UpstreamException(UpstreamFailure.Refused, _upstream.Name, refused.Message, ex);
            }
            catch (HttpRequestException ex)
            {
                var reason = Redact.UserInfo(ex.Message);
                UpstreamLog.Unreachable(_logger, _upstream.Name, reason);
                throw new UpstreamException(UpstreamFailure.Unreachable, _upstream.Name, $"unreachable ({reason})", ex);
            }
            catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
            {
                UpstreamLog.Unreachable(_logger, _upstream.Name, "timed out");
                throw new UpstreamException(UpstreamFailure.Unreachable, _upstream.Name, "timed out", ex);
            }

            if ((int)response.StatusCode is 301 or 302 or 303 or 307 or 308 && response.Headers.Location is { } location)
            {
                var target = location.IsAbsoluteUri ? location : new Uri(uri, location);
                response.Dispose();
                CheckRedirect(uri, target);
                uri = target;
                if (response.StatusCode == HttpStatusCode.SeeOther)
                {
                    method = HttpMethod.Get;
                }

                continue;
            }

            return response;
        }

        throw new UpstreamException(UpstreamFailure.Protocol, _upstream.Name, $"more than {MaxRedirects} redirects");
    }

    /// <summary>
    /// Plain http only on the upstream's own host when it is allowed http, or with <c>AllowInsecureRedirects</c>;
    /// never a scheme other than http(s). Internal addresses are judged at connect time (<see cref="UpstreamConnector"/>).
    /// </summary>
    private void CheckRedirect(Uri from, Uri target)
    {
        string? problem = null;
        if (target.Scheme is not ("http" or "https"))
        {
            problem = $"a redirect to the scheme '{target.Scheme}'";
        }
        else if (target.Scheme == Uri.UriSchemeHttp && !_upstream.AllowInsecureRedirects
            && !(_upstream.AllowHttp && string.Equals(target.IdnHost, _upstream.Url.IdnHost, StringComparison.OrdinalIgnoreCase)))
        {
            problem = $"a redirect to plain http ({Redact.Url(target)}) and AllowInsecureRedirects is not set for this upstream";
        }
        else if (!string.IsNullOrEmpty(target.UserInfo))
        {
            // Credentials in a URL would be sent as Basic authentication to wherever it points.
            problem = $"a redirect to a URL with user info ({Redact.Url(target)})";
        }

        if (problem is not null)
        {
            UpstreamLog.RedirectRefused(_logger, _upstream.Name, Redact.Url(from), problem);
            throw new UpstreamException(UpstreamFailure.Refused, _upstream.Name, $"refused {problem}; nothing was sent to it");
        }
    }

    private TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var retryAfter = response.Headers.RetryAfter;
        if (retryAfter?.Delta is { } delta)
        {
            return delta;
        }

        if (retryAfter?.Date is { } date)
        {
            var wait = date - _time.GetUtcNow();
            return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        }

        return null;
    }

    private sealed record BearerChallenge(string? Realm, string? Service);

    private AuthenticationHeaderValue BasicHeader() =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{_upstream.Username}:{_upstream.Password}")));
}
