using System.Net;
using P2PRegistry.Tracker.Peers;

namespace P2PRegistry.Tracker.Tests;

internal static class TestPeers
{
    public static PeerId Id(int n)
    {
        var bytes = new byte[PeerId.Length];
        "-TT0001-"u8.CopyTo(bytes);
        BitConverter.TryWriteBytes(bytes.AsSpan(16), n);
        return new PeerId(bytes);
    }

    public static PeerRecord Agent(int n, bool complete, int port = 0) =>
        new(Id(n), IPAddress.Parse($"10.0.{n / 256}.{n % 256}"), port == 0 ? 6000 + n : port, PeerRole.Agent, complete, complete ? 0 : 100, DateTimeOffset.UnixEpoch);

    public static PeerRecord Origin(int n) =>
        new(Id(n), IPAddress.Parse($"10.1.{n / 256}.{n % 256}"), 6000 + n, PeerRole.Origin, true, 0, DateTimeOffset.UnixEpoch);
}
