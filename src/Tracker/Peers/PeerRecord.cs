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
    // The address as a number, so IsAt compares without reading the IPAddress object (a cache miss per candidate).
    private readonly UInt128 _addressKey = KeyOf(Address);

    public IPAddress Address
    {
        get;
        init
        {
            field = value;
            _addressKey = KeyOf(value);
        }
    } = Address;

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

    /// <summary><see cref="IsAt(IPAddress, int)"/> with the address as <see cref="KeyOf"/> gives it, for a caller that checks many records.</summary>
    public bool IsAt(UInt128 addressKey, IPAddress address, int port) => Port == port && _addressKey == addressKey && Address.Equals(address);

    /// <summary>
    /// An address as a number: its bytes (an IPv4 one with a marker bit), for IPv6 mixed with its scope. Equal addresses
    /// give equal keys; <see cref="IsAt(UInt128, IPAddress, int)"/> still confirms with <see cref="IPAddress.Equals(object)"/>,
    /// so the key only has to make unequal ones cheap to tell apart.
    /// </summary>
    public static UInt128 KeyOf(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        if (!address.TryWriteBytes(bytes, out var length) || length != 16)
        {
            return ((UInt128)1 << 64) | System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes);
        }

        return System.Buffers.Binary.BinaryPrimitives.ReadUInt128BigEndian(bytes) ^ (ulong)address.ScopeId;
    }

    /// <summary>
    /// This record as a gRPC answer's peer entry, once encoded (<see cref="Announcing.GrpcPeerEncoding"/> owns it):
    /// kept here because the record is immutable and handed out many times before its peer announces again.
    /// Left out of equality, and not carried by a copy.
    /// </summary>
    internal byte[]? GrpcEncoding { get; set; }

    /// <summary>This peer as last seen at another time: a record with this one's cached encoding, if made yet (the time is no part of it).</summary>
    internal PeerRecord WithLastSeen(DateTimeOffset lastSeen) => new(this) { LastSeen = lastSeen, GrpcEncoding = GrpcEncoding };

    public bool Equals(PeerRecord? other) =>
        other is not null && Id == other.Id && Address.Equals(other.Address) && Port == other.Port && Role == other.Role
        && Complete == other.Complete && BytesLeft == other.BytesLeft && LastSeen == other.LastSeen && Locality == other.Locality;

    public override int GetHashCode() => HashCode.Combine(Id, Address, Port, Role, Complete, BytesLeft, LastSeen, Locality);
}
