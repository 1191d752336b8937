using System.IO.Pipelines;
using System.Net;

namespace P2PRegistry.Swarm.Transport;

/// <summary>A peer connection as the session and the listener see it: plain TCP (<see cref="PeerSocketConnection"/>) or TLS (<see cref="PeerTlsConnection"/>).</summary>
internal interface IPeerConnection : IDuplexPipe, IAsyncDisposable
{
    EndPoint? RemoteEndPoint { get; }

    /// <summary>Cancelled when the peer closed the connection, it broke, or it was aborted.</summary>
    CancellationToken ConnectionClosed { get; }

    /// <summary>Starts moving bytes; call once, before the session reads or writes.</summary>
    void Start();

    /// <summary>Closes the socket at once: both loops end and the session sees the connection aborted.</summary>
    void Abort();
}
