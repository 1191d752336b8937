using Xunit.Sdk;

[assembly: Xunit.TestFramework("P2PRegistry.Integration.Tests.IntegrationTestFramework", "P2PRegistry.Integration.Tests")]

namespace P2PRegistry.Integration.Tests;

/// <summary>
/// xunit 2 has no assembly fixtures; the framework object lives for the whole run and is disposed when it ends,
/// before the host process is torn down, so run-wide resources (the shared test images) are deleted here.
/// </summary>
public sealed class IntegrationTestFramework : XunitTestFramework
{
    public IntegrationTestFramework(IMessageSink messageSink)
        : base(messageSink)
    {
        DisposalTracker.Add(new RunCleanup());
    }

    private sealed class RunCleanup : IDisposable
    {
        public void Dispose() => Origin.TestImages.DeleteIfBuilt();
    }
}
