namespace P2PRegistry.Testing.Images;

/// <summary>Options of <c>skopeo copy</c> the tests use.</summary>
public sealed class SkopeoCopyOptions
{
    /// <summary><c>--format</c>: "oci", "v2s2" (Docker schema 2) or null to keep the source's.</summary>
    public string? Format { get; init; }

    /// <summary><c>--all</c>: copy every platform of an index, and the index itself.</summary>
    public bool All { get; init; }

    /// <summary><c>--preserve-digests</c>: fail rather than change a digest (e.g. by recompressing).</summary>
    public bool PreserveDigests { get; init; }

    /// <summary><c>--src-creds user:password</c>; null = anonymous (<c>--src-no-creds</c>).</summary>
    public SkopeoCredentials? SourceCredentials { get; init; }

    /// <summary><c>--dest-creds user:password</c>; null = anonymous (<c>--dest-no-creds</c>).</summary>
    public SkopeoCredentials? DestinationCredentials { get; init; }

    /// <summary><c>--digestfile</c>: where skopeo writes the digest of the manifest it pushed.</summary>
    public string? DigestFile { get; init; }

    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(3);
}

/// <summary>A registry user name and password.</summary>
public sealed record SkopeoCredentials(string Username, string Password)
{
    public override string ToString() => $"{Username}:{Password}";
}
