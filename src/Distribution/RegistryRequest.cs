using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using P2PRegistry.Core.Content;

namespace P2PRegistry.Distribution;

/// <summary>Reading a registry request: shared by the origin's registry and the agent's mirror.</summary>
public static class RegistryRequest
{
    /// <summary>
    /// The request target as the client sent it: the server resolves <c>..</c> and decodes escapes in
    /// <see cref="HttpRequest.Path"/>, which would let <c>a/../b</c> through as <c>b</c>.
    /// </summary>
    public static string RawPath(HttpContext context)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        return raw is { Length: > 0 } && raw[0] == '/' ? raw : context.Request.Path.Value ?? "/";
    }

    /// <summary>A digest from the client, or 400 DIGEST_INVALID (unsupported algorithms included).</summary>
    public static Digest ParseDigest(string? text)
    {
        return Digest.Validate(text, out var digest) switch
        {
            DigestParseStatus.Ok => digest,
            DigestParseStatus.UnsupportedAlgorithm => throw new RegistryException(RegistryError.DigestInvalid, "unsupported digest algorithm; only sha256 is accepted", Truncate(text)),
            _ => throw new RegistryException(RegistryError.DigestInvalid, "invalid digest", Truncate(text)),
        };
    }

    /// <summary>Client input echoed in an error detail, cut to 100 characters.</summary>
    public static string? Truncate(string? text) => text is { Length: > 100 } ? text[..100] : text;
}
