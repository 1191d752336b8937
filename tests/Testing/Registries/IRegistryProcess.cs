namespace P2PRegistry.Testing.Registries;

/// <summary>A registry (v2 API) running as a real process on 127.0.0.1, as tests see it.</summary>
public interface IRegistryProcess : IAsyncDisposable
{
    /// <summary>What it is, for test names and messages ("origin", "docker-registry").</summary>
    string Kind { get; }

    int Port { get; }

    /// <summary><c>127.0.0.1:port</c>, as used in image references (<c>docker://127.0.0.1:port/name:tag</c>).</summary>
    string Host { get; }

    /// <summary><c>http://127.0.0.1:port/</c>.</summary>
    Uri BaseAddress { get; }

    /// <summary>Name, PID, state and latest output, for failure messages.</summary>
    string Describe();
}
