using System.Net.Sockets;
using Grpc.Core;

namespace P2PRegistry.Agent.Tracking;

/// <summary>Which failures mean "this tracker is down or unreachable" (fail over) rather than "it answered no" (do not).</summary>
internal static class TrackerFailures
{
    public static bool IsUnreachable(Exception? exception) => exception switch
    {
        null => false,
        // Unavailable: refused connection, reset, or the tracker's shared store is away. Internal/Unknown: a broken
        // stream or a crashed handler. Cancelled here is not ours (the caller's token is checked first): a channel
        // disposed by a reload, or the server going away mid-call.
        RpcException rpc => rpc.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Internal or StatusCode.Unknown or StatusCode.Cancelled,
        HttpRequestException or IOException or SocketException or TimeoutException or ObjectDisposedException or InvalidOperationException => true,
        _ => false,
    };
}
