using System.Net;

namespace P2PRegistry.Tracker.Peers;

/// <summary>What the tracker knows about one peer of one swarm, as of its last announce. Immutable: an announce replaces it.</summary>
internal sealed record PeerRecord(
    PeerId Id,
    IPAddress Address,
    int Port,
    PeerRole Role,
    bool Complete,
    long BytesLeft,
    DateTimeOffset LastSeen)
{
    // The cached encoding, shared with the copies of WithLastSeen (which encode the same); made when first needed.
    private EncodingBox? _encoding;

    /// <summary>A copy (<c>with</c>) is another record: every field but the cached encoding, which belongs to the original.</summary>
    private PeerRecord(PeerRecord original)
    {
        Id = original.Id;
        Address = original.Address;
        Port = original.Port;
        Role = original.Role;
        Complete = original.Complete;
        BytesLeft = original.BytesLeft;
        LastSeen = original.LastSeen;
        Locality = original.Locality;
    }

    /// <summary>Where the peer sits (zone, rack), as it announced; empty labels when it did not say.</summary>
    public PeerLocality Locality { get; init; } = PeerLocality.Unknown;

    /// <summary>Whether this peer listens at the given address and port (the same peer under a new id after a restart).</summary>
    public bool IsAt(IPAddress address, int port) => Port == port && Address.Equals(address);

    /// <summary>
    /// This record as a gRPC answer's peer entry, once encoded (<see cref="Announcing.GrpcPeerEncoding"/> owns it):
    /// kept here because the record is immutable and handed out many times before its peer announces again.
    /// Left out of equality, and not carried by a copy.
    /// </summary>
    internal byte[]? GrpcEncoding
    {
        get => _encoding?.Value;
        set => (_encoding ??= new EncodingBox()).Value = value;
    }

    /// <summary>This peer as last seen at another time: a record that shares this one's cached encoding (which the time is no part of).</summary>
    internal PeerRecord WithLastSeen(DateTimeOffset lastSeen) => new(this) { LastSeen = lastSeen, _encoding = _encoding ??= new EncodingBox() };

    public bool Equals(PeerRecord? other) =>
        other is not null && Id == other.Id && Address.Equals(other.Address) && Port == other.Port && Role == other.Role
        && Complete == other.Complete && BytesLeft == other.BytesLeft && LastSeen == other.LastSeen && Locality == other.Locality;

    public override int GetHashCode() => HashCode.Combine(Id, Address, Port, Role, Complete, BytesLeft, LastSeen, Locality);

    private sealed class EncodingBox
    {
        public byte[]? Value { get; set; }
    }
}
