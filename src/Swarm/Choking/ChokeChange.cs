namespace P2PRegistry.Swarm.Choking;

/// <summary>A decision of the <see cref="ChokePolicy"/>: send <c>choke</c> (or <c>unchoke</c>) to the peer.</summary>
internal readonly record struct ChokeChange(int Peer, bool Choke);
