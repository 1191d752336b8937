namespace P2PRegistry.Integration.Tests.Origin;

/// <summary>A registry under test, started once per test class.</summary>
public interface IRegistryFixture
{
    IRegistryProcess Registry { get; }

    TestOutputSink Output { get; }
}

/// <summary>Our origin, the registry these tests are about.</summary>
public sealed class OriginFixture : IRegistryFixture, IAsyncLifetime
{
    private OriginProcess? _origin;

    public IRegistryProcess Registry => _origin ?? throw new InvalidOperationException("Not started.");

    public OriginProcess Origin => _origin ?? throw new InvalidOperationException("Not started.");

    public TestOutputSink Output { get; } = new();

    public async Task InitializeAsync() =>
        _origin = await OriginProcess.StartAsync(new OriginOptions { OnOutputLine = Output.WriteLine });

    public async Task DisposeAsync()
    {
        if (_origin is not null)
        {
            await _origin.DisposeAsync();
        }
    }
}

/// <summary>
/// CNCF distribution: the reference. Every end-to-end test also runs against it, so a test that fails only
/// against the origin has found an origin bug, not a test bug.
/// </summary>
public sealed class DockerRegistryFixture : IRegistryFixture, IAsyncLifetime
{
    private DockerRegistryProcess? _registry;

    public IRegistryProcess Registry => _registry ?? throw new InvalidOperationException("Not started.");

    public TestOutputSink Output { get; } = new();

    public async Task InitializeAsync() =>
        _registry = await DockerRegistryProcess.StartAsync(new DockerRegistryOptions { OnOutputLine = Output.WriteLine });

    public async Task DisposeAsync()
    {
        if (_registry is not null)
        {
            await _registry.DisposeAsync();
        }
    }
}
