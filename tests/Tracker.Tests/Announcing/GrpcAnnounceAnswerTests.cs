using System.Net;
using Google.Protobuf;
using P2PRegistry.Contracts.Tracker;
using P2PRegistry.Tracker.Announcing;
using P2PRegistry.Tracker.Peers;
using PeerRecord = P2PRegistry.Tracker.Peers.PeerRecord;
using PeerRole = P2PRegistry.Tracker.Peers.PeerRole;
using PeerRoleDto = P2PRegistry.Contracts.Tracker.PeerRole;

namespace P2PRegistry.Tracker.Tests.Announcing;

public sealed class GrpcAnnounceAnswerTests
{
    [Fact]
    public void Answer_is_the_bytes_of_the_generated_response()
    {
        PeerRecord[] peers =
        [
            TestPeers.Agent(1, complete: true),
            TestPeers.Agent(300, complete: false),
            new(TestPeers.Id(7), IPAddress.Parse("2001:db8::7"), 65535, PeerRole.Agent, true, 0, DateTimeOffset.UnixEpoch),
            TestPeers.Origin(2),
        ];
        var expected = new AnnounceResponse { IntervalSeconds = 1800, MinIntervalSeconds = 30 };
        foreach (var peer in peers)
        {
            expected.Peers.Add(new Peer
            {
                PeerId = ByteString.CopyFrom(peer.Id.ToArray()),
                Ip = peer.Address.ToString(),
                Port = peer.Port,
                Complete = peer.Complete,
                Role = peer.Role == PeerRole.Origin ? PeerRoleDto.Origin : PeerRoleDto.Agent,
            });
        }

        var answer = new GrpcAnnounceAnswer(peers, 1800, 30).ToByteArray();

        Assert.Equal(expected.ToByteArray(), answer);
        Assert.Equal(expected, AnnounceResponse.Parser.ParseFrom(answer));
    }

    [Fact]
    public void Answer_without_peers_holds_the_intervals()
    {
        var answer = AnnounceResponse.Parser.ParseFrom(new GrpcAnnounceAnswer([], 60, 1).ToByteArray());

        Assert.Empty(answer.Peers);
        Assert.Equal(60, answer.IntervalSeconds);
        Assert.Equal(1, answer.MinIntervalSeconds);
    }

    [Fact]
    public void Encoding_is_cached_per_record_and_not_carried_by_a_copy()
    {
        var incomplete = TestPeers.Agent(5, complete: false);
        var first = GrpcPeerEncoding.Of(incomplete);
        Assert.Same(first, GrpcPeerEncoding.Of(incomplete));

        // A copy with another state is another record: its encoding says complete.
        var complete = incomplete with { Complete = true, BytesLeft = 0 };
        var answer = AnnounceResponse.Parser.ParseFrom(new GrpcAnnounceAnswer([complete], 60, 1).ToByteArray());
        Assert.True(answer.Peers[0].Complete);
        Assert.False(AnnounceResponse.Parser.ParseFrom(new GrpcAnnounceAnswer([incomplete], 60, 1).ToByteArray()).Peers[0].Complete);
    }

    [Fact]
    public void Record_seen_again_carries_the_encoding_of_the_original()
    {
        var first = TestPeers.Agent(6, complete: true);
        var encoded = GrpcPeerEncoding.Of(first);
        var later = first.WithLastSeen(first.LastSeen.AddMinutes(1));

        Assert.Equal(first.LastSeen.AddMinutes(1), later.LastSeen);
        Assert.Equal(first with { LastSeen = later.LastSeen }, later);
        Assert.Same(encoded, GrpcPeerEncoding.Of(later));
    }

    [Fact]
    public void Records_at_the_same_address_are_at_it_and_others_are_not()
    {
        var v4 = TestPeers.Agent(1, complete: true);
        Assert.True(v4.IsAt(PeerRecord.KeyOf(IPAddress.Parse("10.0.0.1")), IPAddress.Parse("10.0.0.1"), v4.Port));
        Assert.False(v4.IsAt(PeerRecord.KeyOf(IPAddress.Parse("10.0.0.2")), IPAddress.Parse("10.0.0.2"), v4.Port));
        Assert.False(v4.IsAt(PeerRecord.KeyOf(IPAddress.Parse("::ffff:10.0.0.1")), IPAddress.Parse("::ffff:10.0.0.1"), v4.Port));

        var v6 = v4 with { Address = IPAddress.Parse("2001:db8::1") };
        Assert.True(v6.IsAt(PeerRecord.KeyOf(IPAddress.Parse("2001:db8::1")), IPAddress.Parse("2001:db8::1"), v4.Port));
        Assert.False(v6.IsAt(PeerRecord.KeyOf(IPAddress.Parse("2001:db8::2")), IPAddress.Parse("2001:db8::2"), v4.Port));
        Assert.False(v6.IsAt(PeerRecord.KeyOf(IPAddress.Parse("2001:db8::1")), IPAddress.Parse("2001:db8::1"), v4.Port + 1));
    }

    [Fact]
    public void Records_equal_whether_or_not_encoded()
    {
        var encoded = TestPeers.Agent(9, complete: true);
        _ = GrpcPeerEncoding.Of(encoded);
        var fresh = TestPeers.Agent(9, complete: true);

        Assert.Equal(fresh, encoded);
        Assert.Equal(fresh.GetHashCode(), encoded.GetHashCode());
        Assert.NotEqual(fresh, encoded with { Port = 1 });
    }
}
