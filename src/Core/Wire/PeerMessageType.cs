namespace P2PRegistry.Core.Wire;

/// <summary>
/// A peer wire message. Non-negative values are the BEP 3 / BEP 10 message ids; the negative ones are
/// never on the wire.
/// </summary>
public enum PeerMessageType
{
    /// <summary>A zero-length frame (BEP 3 keep-alive): no id, no payload.</summary>
    KeepAlive = -1,

    /// <summary>A message id this codec does not implement; its payload was consumed and is exposed raw.</summary>
    Unknown = -2,

    Choke = 0,
    Unchoke = 1,
    Interested = 2,
    NotInterested = 3,
    Have = 4,
    Bitfield = 5,
    Request = 6,
    Piece = 7,
    Cancel = 8,

    /// <summary>BEP 10: <c>&lt;ext id:u8&gt;&lt;payload&gt;</c>; ext id 0 is the extension handshake.</summary>
    Extended = 20,
}
