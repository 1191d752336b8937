using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace P2PRegistry.Tracker;

/// <summary>
/// The two Kestrel endpoints. Kestrel writes the bound address back into each <see cref="ListenOptions"/>, so once
/// the app has started these tell the real ports (port 0 in tests) and which protocol each one speaks.
/// </summary>
internal sealed class TrackerListeners
{
    public ListenOptions? Grpc { get; set; }

    public ListenOptions? Http { get; set; }

    public IPEndPoint GrpcEndPoint => (Grpc ?? throw NotConfigured()).IPEndPoint ?? throw NotConfigured();

    public IPEndPoint HttpEndPoint => (Http ?? throw NotConfigured()).IPEndPoint ?? throw NotConfigured();

    private static InvalidOperationException NotConfigured() => new("The tracker's endpoints are not configured until the server starts.");
}
