using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using P2PRegistry.Origin.Configuration;

namespace P2PRegistry.Origin.Registry;

/// <summary>HTTP Basic check for writing requests, when push credentials are configured.</summary>
internal sealed class PushAuthenticator
{
    public const string Challenge = "Basic realm=\"p2pregistry\"";

    private readonly byte[]? _expected;

    public PushAuthenticator(IOptions<OriginOptions> options)
    {
        var push = options.Value.Push;
        if (!push.Enabled)
        {
            return;
        }

        // A secret file usually ends with a newline the author did not mean as part of the password.
        var password = string.IsNullOrEmpty(push.PasswordFile)
            ? push.Password!
            : File.ReadAllText(push.PasswordFile).TrimEnd('\r', '\n');
        _expected = Encoding.UTF8.GetBytes($"{push.Username}:{password}");
    }

    public bool Enabled => _expected is not null;

    /// <summary>True if push auth is off, or the request carries the configured credentials.</summary>
    public bool IsAuthorized(string? authorization)
    {
        if (_expected is null)
        {
            return true;
        }

        const string Scheme = "Basic ";
        if (authorization is null || !authorization.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var encoded = authorization.AsSpan(Scheme.Length).Trim();
        Span<byte> decoded = stackalloc byte[512];
        if (encoded.Length > 680 || !Convert.TryFromBase64Chars(encoded, decoded, out var written))
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(decoded[..written], _expected);
    }

    public static RegistryException Unauthorized(string message) =>
        new(RegistryError.Unauthorized, message)
        {
            Headers = [new("WWW-Authenticate", Challenge)],
        };
}
