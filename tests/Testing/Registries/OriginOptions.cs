namespace P2PRegistry.Testing.Registries;

/// <summary>How to start an <see cref="OriginProcess"/>.</summary>
public sealed class OriginOptions
{
    /// <summary>Where the origin keeps blobs, manifests and uploads; null = a fresh temp directory owned by the process object.</summary>
    public string? StoragePath { get; init; }

    /// <summary>0 = a free port.</summary>
    public int Port { get; init; }

    /// <summary>The single push user (<c>Origin:Push:Username</c>), allowed to push to every repository.</summary>
    public string? PushUsername { get; init; }

    public string? PushPassword { get; init; }

    /// <summary>An htpasswd file of push users (<c>Origin:Push:HtpasswdFile</c>, e.g. from <see cref="Htpasswd"/>).</summary>
    public string? HtpasswdFile { get; init; }

    /// <summary>Per htpasswd user, the repository prefixes it may push to (<c>Origin:Push:Users:&lt;user&gt;:Prefixes</c>).</summary>
    public IReadOnlyDictionary<string, string[]> PushUsers { get; init; } = new Dictionary<string, string[]>();

    /// <summary>
    /// <c>Origin:Push:AllowAnonymous</c>. Null (the default) = on when no credentials are configured here, so a test
    /// that is not about authentication pushes as before, and off as soon as it configures a push user.
    /// </summary>
    public bool? AllowAnonymousPush { get; init; }

    /// <summary>
    /// <c>Origin:RegistryNames</c>: the host[:port] names clients pull pushed images by. Empty (the default) = the
    /// request's Host header, i.e. <c>127.0.0.1:port</c>; a test pulling <c>origin.invalid:5000/…</c> through an agent
    /// (whose ns is that name) must list it here.
    /// </summary>
    public IReadOnlyList<string> RegistryNames { get; init; } = [];

    /// <summary>Some push credential is configured.</summary>
    public bool HasPushCredentials => PushUsername is not null || HtpasswdFile is not null;

    /// <summary>More <c>--Key=Value</c> configuration arguments.</summary>
    public IReadOnlyList<string> ExtraArguments { get; init; } = [];

    public Action<string>? OnOutputLine { get; init; }

    public TimeSpan ReadyTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The path polled until it answers 200 (<c>/readyz</c>: storage writable); with push credentials (and anonymous push off) a 401 also counts, for a <c>/v2/</c> probe.</summary>
    public string ReadinessPath { get; init; } = "/readyz";
}
