namespace P2PRegistry.Origin.Tests;

/// <summary>One origin shared by the tests of a class (each test uses its own repository names).</summary>
public sealed class OriginFixture : IAsyncLifetime
{
    private OriginServer? _server;

    public OriginServer Server => _server ?? throw new InvalidOperationException("not started");

    public async Task InitializeAsync() => _server = await OriginServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
