namespace P2PRegistry.Testing.Registries;

/// <summary>How to start a <see cref="DockerRegistryProcess"/>.</summary>
public sealed class DockerRegistryOptions
{
    /// <summary>The storage root; null = inside the process object's own temp directory.</summary>
    public string? StoragePath { get; init; }

    /// <summary>0 = a free port.</summary>
    public int Port { get; init; }

    /// <summary>Makes it a pull-through cache of this upstream (it refuses to start if the upstream is down).</summary>
    public Uri? ProxyRemoteUrl { get; init; }

    /// <summary>An <c>auth:</c> block appended to config.yml, e.g. <see cref="TokenIssuer.RegistryAuthYaml"/> (token auth like Docker Hub).</summary>
    public string? AuthYaml { get; init; }

    public Action<string>? OnOutputLine { get; init; }

    public TimeSpan ReadyTimeout { get; init; } = TimeSpan.FromSeconds(30);
}
