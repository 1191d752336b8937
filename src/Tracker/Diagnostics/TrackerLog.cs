using P2PRegistry.Core.Content;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Tracker.Admission;
using P2PRegistry.Tracker.Peers;

namespace P2PRegistry.Tracker.Diagnostics;

/// <summary>The tracker's log events; ids are stable so operators can filter on them.</summary>
internal static partial class TrackerLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Debug, Message = "Announce {Event} from {Role} {PeerId} at {Address}:{Port} for {InfoHash}: {Outcome}, {PeerCount} peers handed out")]
    public static partial void Announced(this ILogger logger, AnnounceEvent @event, PeerRole role, PeerId peerId, string address, int port, InfoHash infoHash, PeerStoreOutcome outcome, int peerCount);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Swarm {InfoHash} holds its maximum of {MaxPeers} peers; peer {PeerId} was not recorded")]
    public static partial void SwarmFull(this ILogger logger, InfoHash infoHash, int maxPeers, PeerId peerId);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "The tracker holds its maximum of {MaxSwarms} swarms; swarm {InfoHash} was not created")]
    public static partial void TooManySwarms(this ILogger logger, int maxSwarms, InfoHash infoHash);

    [LoggerMessage(EventId = 4, Level = LogLevel.Debug, Message = "Dropped {Count} peers not seen within {PeerTtl}")]
    public static partial void PeersExpired(this ILogger logger, int count, TimeSpan peerTtl);

    [LoggerMessage(EventId = 5, Level = LogLevel.Error, Message = "Sweeping expired peers failed")]
    public static partial void SweepFailed(this ILogger logger, Exception exception);

    [LoggerMessage(EventId = 10, Level = LogLevel.Information, Message = "Fetched the metainfo of {Digest} from the origin: info hash {InfoHash}, {PieceCount} pieces")]
    public static partial void MetaInfoFetched(this ILogger logger, Digest digest, InfoHash infoHash, int pieceCount);

    [LoggerMessage(EventId = 11, Level = LogLevel.Information, Message = "The origin has no blob {Digest}")]
    public static partial void MetaInfoNotFound(this ILogger logger, Digest digest);

    [LoggerMessage(EventId = 12, Level = LogLevel.Warning, Message = "The origin could not be reached for the metainfo of {Digest}: {Reason}")]
    public static partial void OriginUnavailable(this ILogger logger, Digest digest, string reason);

    [LoggerMessage(EventId = 13, Level = LogLevel.Error, Message = "The origin answered an invalid metainfo for {Digest}: {Reason}")]
    public static partial void OriginInvalidMetaInfo(this ILogger logger, Digest digest, string reason);

    [LoggerMessage(EventId = 20, Level = LogLevel.Debug, Message = "HTTP announce from {Address} refused: {Reason}")]
    public static partial void HttpAnnounceRefused(this ILogger logger, string address, string reason);

    [LoggerMessage(EventId = 21, Level = LogLevel.Debug, Message = "Announce ({Transport}) from {Source} refused, {Refusal}: {Reason}")]
    public static partial void AnnounceRefused(this ILogger logger, string transport, string source, AnnounceRefusal refusal, string reason);

    [LoggerMessage(EventId = 30, Level = LogLevel.Information, Message = "Tracker listening: gRPC on {GrpcEndPoint}, HTTP on {HttpEndPoint}, origin {OriginUrl}")]
    public static partial void Listening(this ILogger logger, string grpcEndPoint, string httpEndPoint, string originUrl);
}
