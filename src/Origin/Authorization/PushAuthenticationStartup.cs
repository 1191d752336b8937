using P2PRegistry.Origin.Registry;

namespace P2PRegistry.Origin.Authorization;

/// <summary>
/// Builds the <see cref="PushAuthenticator"/> at start (after options validation), so its summary line and any
/// user without prefixes are logged when the origin starts, not at the first push.
/// </summary>
internal sealed class PushAuthenticationStartup(PushAuthenticator authenticator) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        GC.KeepAlive(authenticator);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
