using Google.Protobuf;
using P2PRegistry.Contracts.Tracker;
using P2PRegistry.Core.MetaInfos;

namespace P2PRegistry.Tracker.Tests.InProcess;

internal static class Announces
{
    public static ByteString PeerId(int n) => ByteString.CopyFrom(TestPeers.Id(n).ToArray());

    public static AnnounceRequest Request(
        InfoHash infoHash,
        int peer,
        bool complete = false,
        PeerRole role = PeerRole.Agent,
        AnnounceEvent announceEvent = AnnounceEvent.Started,
        string? ip = null,
        int numWant = 0) => new()
        {
            InfoHash = ByteString.CopyFrom(infoHash.ToArray()),
            PeerId = PeerId(peer),
            Ip = ip ?? $"10.0.0.{peer}",
            Port = 6000 + peer,
            Role = role,
            Complete = complete,
            BytesLeft = complete ? 0 : 1000,
            Event = announceEvent,
            NumWant = numWant,
        };
}
