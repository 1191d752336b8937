namespace P2PRegistry.Swarm.Transport;

/// <summary>A peer-port TLS handshake failed (a plaintext BitTorrent client, a certificate not from the CA) or timed out.</summary>
public sealed class PeerTlsException : IOException
{
    public PeerTlsException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public PeerTlsException()
    {
    }

    public PeerTlsException(string message)
        : base(message)
    {
    }
}
