using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace P2PRegistry.Testing.Networking;

/// <summary>
/// Free TCP ports on 127.0.0.1 for programs that must be told their port up front.
/// </summary>
/// <remarks>
/// A port is given out from outside the kernel's ephemeral range (<c>net.ipv4.ip_local_port_range</c>): a port taken
/// from inside it is free only until some process binds port 0 or opens a connection, and a program that binds its
/// peer listener to port 0 before its HTTP port could be handed the very port it was told to serve HTTP on.
/// </remarks>
public static class FreePort
{
    private const string EphemeralRangeFile = "/proc/sys/net/ipv4/ip_local_port_range";

    // Never hand out the same port twice in one test run, so tests running in parallel do not collide
    // on a port that one of them has been given but not yet bound.
    private static readonly ConcurrentDictionary<int, byte> s_given = new();
    private static readonly (int Low, int High) s_range = ChooseRange();

    public static int Next()
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var port = Random.Shared.Next(s_range.Low, s_range.High);
            if (!s_given.TryAdd(port, 0))
            {
                continue;
            }

            if (IsFree(port))
            {
                return port;
            }
        }

        throw new InvalidOperationException($"No unused free port on 127.0.0.1 in {s_range.Low}-{s_range.High - 1} after 200 attempts.");
    }

    /// <summary>The ports <see cref="Next"/> chooses from: [Low, High).</summary>
    public static (int Low, int High) Range => s_range;

    /// <summary>The range to choose from, given the text of <c>ip_local_port_range</c> (null when unreadable).</summary>
    public static (int Low, int High) ChooseRange(string? ephemeralRange)
    {
        // Linux's default is 32768-60999; fall back to it when the file is missing or unreadable.
        var (low, high) = (32768, 60999);
        var parts = ephemeralRange?.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (parts is { Length: 2 }
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var l)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var h)
            && l <= h)
        {
            (low, high) = (l, h);
        }

        // Prefer the ports below the ephemeral range (above the well-known and commonly configured ones), else above it.
        const int floor = 10_000;
        if (low - floor >= 2_000)
        {
            return (floor, low);
        }

        if (65_535 - high >= 2_000)
        {
            return (high + 1, 65_536);
        }

        throw new InvalidOperationException(
            $"The ephemeral port range {low}-{high} leaves fewer than 2,000 ports for tests outside it; narrow {EphemeralRangeFile}.");
    }

    private static (int Low, int High) ChooseRange()
    {
        string? text = null;
        try
        {
            text = File.ReadAllText(EphemeralRangeFile);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return ChooseRange(text);
    }

    private static bool IsFree(int port)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            listener.Bind(new IPEndPoint(IPAddress.Loopback, port));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
