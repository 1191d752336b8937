using Microsoft.AspNetCore.Connections;

namespace P2PRegistry.Swarm.Transport;

/// <summary>Kestrel's entry for the peer port: every inbound connection becomes a peer session of the engine.</summary>
public sealed class PeerConnectionHandler : ConnectionHandler
{
    private readonly SwarmEngine _engine;

    public PeerConnectionHandler(SwarmEngine engine)
    {
        _engine = engine;
    }

    public override Task OnConnectedAsync(ConnectionContext connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        return _engine.AcceptAsync(connection.Transport, connection.RemoteEndPoint, connection.ConnectionClosed);
    }
}
