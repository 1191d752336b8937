using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace P2PRegistry.Testing.Networking;

/// <summary>Free TCP ports on 127.0.0.1 for programs that must be told their port up front.</summary>
public static class FreePort
{
    // Never hand out the same port twice in one test run, so tests running in parallel do not collide
    // on a port that one of them has been given but not yet bound.
    private static readonly ConcurrentDictionary<int, byte> s_given = new();

    public static int Next()
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            var port = ((IPEndPoint)listener.LocalEndPoint!).Port;
            if (s_given.TryAdd(port, 0))
            {
                return port;
            }
        }

        throw new InvalidOperationException("No unused free port on 127.0.0.1 after 100 attempts.");
    }
}
