namespace P2PRegistry.Integration.Tests.Origin;

/// <summary>An origin started with push credentials (--Origin:Push:Username/Password).</summary>
public sealed class CredentialedOriginFixture : IAsyncLifetime
{
    public static readonly SkopeoCredentials Pusher = new("pusher", "s3cret-Pw");

    private OriginProcess? _origin;

    public OriginProcess Origin => _origin ?? throw new InvalidOperationException("Not started.");

    public TestOutputSink Output { get; } = new();

    public async Task InitializeAsync() =>
        _origin = await OriginProcess.StartAsync(new OriginOptions
        {
            PushUsername = Pusher.Username,
            PushPassword = Pusher.Password,
            OnOutputLine = Output.WriteLine,
        });

    public async Task DisposeAsync()
    {
        if (_origin is not null)
        {
            await _origin.DisposeAsync();
        }
    }
}
