using P2PRegistry.Core.Content;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Core.Wire;

namespace P2PRegistry.Swarm.Tracking;

/// <summary>
/// How the engine announces itself and finds peers. The gRPC tracker and the BEP 3 HTTP tracker are
/// adapters behind it; the engine treats any failure (exception, timeout) as "no peers this time".
/// </summary>
public interface ITrackerClient
{
    Task<AnnounceResult> AnnounceAsync(
        InfoHash infoHash,
        Digest digest,
        PeerId peerId,
        int port,
        bool complete,
        long bytesLeft,
        AnnounceEvent announceEvent,
        CancellationToken cancellationToken);
}
