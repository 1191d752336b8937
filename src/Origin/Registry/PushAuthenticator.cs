using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using P2PRegistry.Origin.Authorization;
using P2PRegistry.Origin.Configuration;
using P2PRegistry.Origin.Diagnostics;

namespace P2PRegistry.Origin.Registry;

/// <summary>
/// HTTP Basic for writing requests (and the <c>/v2/</c> version check). Pushes need credentials unless
/// <c>Origin:Push:AllowAnonymous</c>; users come from the single <c>Username</c> (every repository) and an htpasswd
/// file (bcrypt, each user under its configured repository prefixes). Failed checks are counted per client address
/// (<see cref="FailedAttemptLimiter"/>). With no credential source and no anonymous push, every push gets 401: a
/// pull-through-only origin.
/// </summary>
internal sealed class PushAuthenticator
{
    public const string Challenge = "Basic realm=\"p2pregistry\"";

    private readonly bool _allowAnonymous;
    private readonly int _maxFailures;
    private readonly Dictionary<string, PushUser> _users = new(StringComparer.Ordinal);
    private readonly string? _anyBcryptHash;
    private readonly FailedAttemptLimiter _limiter;
    private readonly ConcurrentDictionary<string, byte[]> _verified = new(StringComparer.Ordinal);
    private readonly OriginMetrics? _metrics;
    private readonly ILogger _logger;

    public PushAuthenticator(IOptions<OriginOptions> options, TimeProvider time, ILogger<PushAuthenticator> logger, OriginMetrics? metrics = null)
    {
        _logger = logger;
        _metrics = metrics;
        var push = options.Value.Push;
        _allowAnonymous = push.AllowAnonymous;
        _maxFailures = push.MaxFailedAttempts;
        _limiter = new FailedAttemptLimiter(push.MaxFailedAttempts, push.FailureWindow, push.MaxTrackedClients, time);
        if (!string.IsNullOrEmpty(push.HtpasswdFile))
        {
            // Validated at start (OriginOptionsValidator), so a format error here is not expected.
            foreach (var (name, hash) in Htpasswd.Parse(File.ReadAllText(push.HtpasswdFile), push.HtpasswdFile))
            {
                var prefixes = push.Users.TryGetValue(name, out var user)
                    ? user.Prefixes.Select(p => RepositoryPrefix.TryParse(p)!.Value).ToArray()
                    : [];
                if (prefixes.Length == 0)
                {
                    AuthorizationLog.UserWithoutPrefixes(logger, name);
                }

                _users[name] = new PushUser(hash, null, prefixes);
                _anyBcryptHash ??= hash;
            }
        }

        if (push.Enabled)
        {
            // A secret file usually ends with a newline the author did not mean as part of the password.
            var password = string.IsNullOrEmpty(push.PasswordFile)
                ? push.Password!
                : File.ReadAllText(push.PasswordFile).TrimEnd('\r', '\n');
            _users[push.Username!] = new PushUser(null, SHA256.HashData(Encoding.UTF8.GetBytes(password)), [RepositoryPrefix.All]);
        }

        AuthorizationLog.Mode(logger, _allowAnonymous
            ? "anonymous push allowed (Origin:Push:AllowAnonymous)"
            : _users.Count == 0 ? "no credential source: pushes are refused (pull-through only)" : $"credentials required, {_users.Count} user(s)");
    }

    /// <summary>The version check challenges a request without credentials (so Docker-style clients send theirs).</summary>
    public bool ChallengesAnonymous => !_allowAnonymous && _users.Count > 0;

    /// <summary>Who is asking: credentials checked (unless anonymous push is allowed), the client throttled after too many failures.</summary>
    public PushIdentity Authenticate(string? authorization, IPAddress? client)
    {
        if (_allowAnonymous)
        {
            return PushIdentity.Anonymous;
        }

        if (string.IsNullOrEmpty(authorization))
        {
            return PushIdentity.Missing;
        }

        if (_limiter.IsBlocked(client, out var retryAfter))
        {
            _metrics?.PushRefused("throttled");
            return PushIdentity.Throttled(retryAfter);
        }

        if (TryVerify(authorization, out var user) && user is not null)
        {
            return PushIdentity.User(user);
        }

        _metrics?.PushRefused("credentials");
        AuthorizationLog.CredentialsRefused(_logger, user ?? "(unreadable header)", client?.ToString() ?? "(unknown)");
        if (_limiter.RecordFailure(client) && _limiter.IsBlocked(client, out retryAfter))
        {
            AuthorizationLog.ClientThrottled(_logger, client?.ToString() ?? "(unknown)", _maxFailures, (int)Math.Ceiling(retryAfter.TotalSeconds));
        }

        return PushIdentity.Invalid;
    }

    /// <summary>May <paramref name="identity"/> write to <paramref name="repository"/>?</summary>
    public bool MayWrite(PushIdentity identity, string repository)
    {
        if (identity.Kind == PushIdentityKind.Anonymous)
        {
            return true;
        }

        if (identity.Kind != PushIdentityKind.User || !_users.TryGetValue(identity.Name!, out var user))
        {
            return false;
        }

        foreach (var prefix in user.Prefixes)
        {
            if (prefix.Covers(repository))
            {
                return true;
            }
        }

        _metrics?.PushRefused("prefix");
        AuthorizationLog.OutsidePrefixes(_logger, repository, identity.Name!);
        return false;
    }

    /// <summary>Decodes <c>Basic base64(user:password)</c> and checks it; <paramref name="user"/> is the claimed name (for the log) or null.</summary>
    private bool TryVerify(string authorization, out string? user)
    {
        user = null;
        const string Scheme = "Basic ";
        if (!authorization.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var encoded = authorization.AsSpan(Scheme.Length).Trim();
        Span<byte> decoded = stackalloc byte[512];
        if (encoded.Length > 680 || !Convert.TryFromBase64Chars(encoded, decoded, out var written))
        {
            return false;
        }

        var colon = decoded[..written].IndexOf((byte)':');
        if (colon <= 0)
        {
            return false;
        }

        user = Encoding.UTF8.GetString(decoded[..colon]);
        var password = decoded[(colon + 1)..written];
        if (!_users.TryGetValue(user, out var entry))
        {
            // As slow as a real check, so a response time does not tell which user names exist.
            if (_anyBcryptHash is not null)
            {
                BCrypt.Net.BCrypt.Verify(Encoding.UTF8.GetString(password), _anyBcryptHash);
            }

            return false;
        }

        // Passwords are compared as fixed-size SHA-256 digests: comparing the raw bytes would end early on a length
        // mismatch and so tell the password's length by the response time.
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(password, hash);
        if (entry.PasswordSha256 is not null)
        {
            return CryptographicOperations.FixedTimeEquals(hash, entry.PasswordSha256);
        }

        // bcrypt is slow on purpose; a client pushing an image sends its credentials with every request, so a
        // verified password is remembered (as its SHA-256) and later requests compare against that.
        if (_verified.TryGetValue(user, out var known) && CryptographicOperations.FixedTimeEquals(hash, known))
        {
            return true;
        }

        if (!BCrypt.Net.BCrypt.Verify(Encoding.UTF8.GetString(password), entry.BcryptHash))
        {
            return false;
        }

        _verified[user] = hash.ToArray();
        return true;
    }

    public static RegistryException Unauthorized(string message) =>
        new(RegistryError.Unauthorized, message)
        {
            Headers = [new("WWW-Authenticate", Challenge)],
        };

    public static RegistryException Throttled(TimeSpan retryAfter) =>
        new(RegistryError.TooManyRequests, "too many failed credential checks from this address", null)
        {
            Headers = [new("Retry-After", Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture))],
        };

    private sealed record PushUser(string? BcryptHash, byte[]? PasswordSha256, RepositoryPrefix[] Prefixes);
}
