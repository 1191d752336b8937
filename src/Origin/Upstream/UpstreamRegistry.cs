namespace P2PRegistry.Origin.Upstream;

/// <summary>One upstream registry the origin pulls through from, selected by the name clients send as <c>ns</c>.</summary>
public sealed class UpstreamRegistry
{
    /// <summary>The registry name as clients know it, e.g. <c>docker.io</c>, <c>ghcr.io</c>, <c>registry.example.com:5000</c>.</summary>
    public required string Name { get; init; }

    /// <summary>Where to reach it, e.g. <c>https://registry-1.docker.io</c>.</summary>
    public required Uri Url { get; init; }

    public string? Username { get; init; }

    public string? Password { get; init; }

    /// <summary>Plain-http URLs allowed for this upstream (its <c>AllowHttp</c>): also decides whether an http token realm is used.</summary>
    public bool AllowHttp { get; init; }

    public bool HasCredentials => !string.IsNullOrEmpty(Username) && Password is not null;

    public override string ToString() => $"{Name} ({Url})";
}
