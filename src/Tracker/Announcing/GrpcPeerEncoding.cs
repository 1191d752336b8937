using Google.Protobuf;
using P2PRegistry.Tracker.Peers;
using PeerRoleDto = P2PRegistry.Contracts.Tracker.PeerRole;

namespace P2PRegistry.Tracker.Announcing;

/// <summary>
/// A peer as it appears in a gRPC <c>AnnounceResponse</c> (proto/tracker.proto): the whole <c>peers</c> entry, its
/// field tag and length included, so an answer is the concatenation of its peers' entries. Encoded once per record
/// (a record is immutable; an announce replaces it) and kept on it: a record is handed out to many askers between two
/// announces of its peer, and encoding it for each (an address string, a copied id, a message object) was the bulk
/// of an in-memory announce's allocations.
/// </summary>
internal static class GrpcPeerEncoding
{
    private const uint PeersFieldTag = (1 << 3) | 2; // field 1 (peers), length-delimited

    public static byte[] Of(PeerRecord peer)
    {
        if (peer.GrpcEncoding is { } cached)
        {
            return cached;
        }

        var message = new Contracts.Tracker.Peer
        {
            PeerId = UnsafeByteOperations.UnsafeWrap(peer.Id.ToArray()),
            Ip = peer.Address.ToString(),
            Port = peer.Port,
            Complete = peer.Complete,
            Role = peer.Role == PeerRole.Origin ? PeerRoleDto.Origin : PeerRoleDto.Agent,
        };
        var size = message.CalculateSize();
        var encoded = new byte[CodedOutputStream.ComputeRawVarint32Size(PeersFieldTag) + CodedOutputStream.ComputeLengthSize(size) + size];
        var output = new CodedOutputStream(encoded);
        output.WriteTag(PeersFieldTag);
        output.WriteLength(size);
        message.WriteTo(output);
        output.CheckNoSpaceLeft();

        // Two threads encoding the same record at once write equal arrays: either may stay.
        peer.GrpcEncoding = encoded;
        return encoded;
    }
}
