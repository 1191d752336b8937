namespace P2PRegistry.Testing.Registries;

/// <summary>How to start an <see cref="OriginProcess"/>.</summary>
public sealed class OriginOptions
{
    /// <summary>Where the origin keeps blobs, manifests and uploads; null = a fresh temp directory owned by the process object.</summary>
    public string? StoragePath { get; init; }

    /// <summary>0 = a free port.</summary>
    public int Port { get; init; }

    public string? PushUsername { get; init; }

    public string? PushPassword { get; init; }

    /// <summary>More <c>--Key=Value</c> configuration arguments.</summary>
    public IReadOnlyList<string> ExtraArguments { get; init; } = [];

    public Action<string>? OnOutputLine { get; init; }

    public TimeSpan ReadyTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The path polled until it answers 200 (<c>/readyz</c>: storage writable); with push credentials a 401 also counts, for a <c>/v2/</c> probe.</summary>
    public string ReadinessPath { get; init; } = "/readyz";
}
