namespace P2PRegistry.Swarm;

/// <summary>A snapshot of what a swarm holds about one connected peer (tests and diagnostics read it).</summary>
internal sealed record PeerView(
    bool AmChoking,
    bool PeerInterested,
    bool AmInterested,
    bool PeerChoking,
    int PeerPieces,
    int Outstanding,
    int QueuedUploads,
    int RequestDepth,
    bool SuperSeeded);
