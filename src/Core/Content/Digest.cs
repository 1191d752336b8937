using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

namespace P2PRegistry.Core.Content;

/// <summary>How a digest string failed to parse.</summary>
public enum DigestParseStatus
{
    Ok,
    /// <summary>Not of the form <c>algorithm ":" encoded</c> (OCI image-spec descriptor grammar).</summary>
    Malformed,
    /// <summary>Well formed, but an algorithm this system cannot verify.</summary>
    UnsupportedAlgorithm,
}

/// <summary>
/// A content address: <c>sha256:&lt;64 lowercase hex&gt;</c>. Only sha256 is accepted, because a digest we
/// cannot verify is a digest we cannot trust.
/// </summary>
public readonly struct Digest : IEquatable<Digest>
{
    public const string Sha256Algorithm = "sha256";
    public const int Sha256HexLength = 64;
    private const string Prefix = "sha256:";

    private readonly string? _value;

    private Digest(string value) => _value = value;

    /// <summary>The whole digest, e.g. <c>sha256:e3b0…</c>.</summary>
    public string Value => _value ?? throw new InvalidOperationException("Default Digest has no value.");

    /// <summary>The 64 hex characters after <c>sha256:</c>.</summary>
    public string Hex => Value[Prefix.Length..];

    public string Algorithm => Sha256Algorithm;

    public bool IsDefault => _value is null;

    public static Digest Parse(string text)
    {
        var status = Validate(text, out var digest);
        return status switch
        {
            DigestParseStatus.Ok => digest,
            DigestParseStatus.UnsupportedAlgorithm => throw new FormatException($"Unsupported digest algorithm in '{Truncate(text)}'; only sha256 is supported."),
            _ => throw new FormatException($"Malformed digest '{Truncate(text)}'; expected sha256:<64 lowercase hex>."),
        };
    }

    public static bool TryParse([NotNullWhen(true)] string? text, out Digest digest) => Validate(text, out digest) == DigestParseStatus.Ok;

    /// <summary>
    /// Parses per the OCI grammar <c>algorithm ":" encoded</c> where algorithm is
    /// <c>[a-z0-9]+([+._-][a-z0-9]+)*</c> and encoded is <c>[a-zA-Z0-9=_-]+</c>; sha256 encoded must be
    /// exactly <c>[a-f0-9]{64}</c>.
    /// </summary>
    public static DigestParseStatus Validate(string? text, out Digest digest)
    {
        digest = default;
        if (string.IsNullOrEmpty(text) || text.Length > 256)
        {
            return DigestParseStatus.Malformed;
        }

        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || colon == text.Length - 1)
        {
            return DigestParseStatus.Malformed;
        }

        var algorithm = text.AsSpan(0, colon);
        var encoded = text.AsSpan(colon + 1);
        if (!IsValidAlgorithm(algorithm) || !IsValidEncoded(encoded))
        {
            return DigestParseStatus.Malformed;
        }

        if (!algorithm.SequenceEqual(Sha256Algorithm))
        {
            return DigestParseStatus.UnsupportedAlgorithm;
        }

        if (encoded.Length != Sha256HexLength)
        {
            return DigestParseStatus.Malformed;
        }

        foreach (var c in encoded)
        {
            if (!char.IsAsciiHexDigitLower(c) && !char.IsAsciiDigit(c))
            {
                return DigestParseStatus.Malformed;
            }
        }

        digest = new Digest(text);
        return DigestParseStatus.Ok;
    }

    /// <summary>Builds a digest from a finished SHA-256 hash (32 bytes).</summary>
    public static Digest FromSha256(ReadOnlySpan<byte> hash)
    {
        if (hash.Length != SHA256.HashSizeInBytes)
        {
            throw new ArgumentException($"A SHA-256 hash is {SHA256.HashSizeInBytes} bytes, got {hash.Length}.", nameof(hash));
        }

        return new Digest(Prefix + Convert.ToHexStringLower(hash));
    }

    /// <summary>The digest of some bytes held in memory (manifests, small blobs).</summary>
    public static Digest Compute(ReadOnlySpan<byte> content)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(content, hash);
        return FromSha256(hash);
    }

    /// <summary>Writes the raw 32-byte hash.</summary>
    public void CopyHashTo(Span<byte> destination) => Convert.FromHexString(Hex, destination, out _, out _);

    public bool Equals(Digest other) => string.Equals(_value, other._value, StringComparison.Ordinal);

    public override bool Equals(object? obj) => obj is Digest other && Equals(other);

    public override int GetHashCode() => _value is null ? 0 : StringComparer.Ordinal.GetHashCode(_value);

    public override string ToString() => _value ?? string.Empty;

    public static bool operator ==(Digest left, Digest right) => left.Equals(right);

    public static bool operator !=(Digest left, Digest right) => !left.Equals(right);

    private static bool IsValidAlgorithm(ReadOnlySpan<char> algorithm)
    {
        // [a-z0-9]+([+._-][a-z0-9]+)*
        var needComponent = true;
        foreach (var c in algorithm)
        {
            if (char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c))
            {
                needComponent = false;
            }
            else if (c is '+' or '.' or '_' or '-')
            {
                if (needComponent)
                {
                    return false;
                }

                needComponent = true;
            }
            else
            {
                return false;
            }
        }

        return !needComponent;
    }

    private static bool IsValidEncoded(ReadOnlySpan<char> encoded)
    {
        foreach (var c in encoded)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('=' or '_' or '-'))
            {
                return false;
            }
        }

        return true;
    }

    private static string Truncate(string? text) => text is null ? "" : text.Length <= 80 ? text : text[..80] + "…";
}
