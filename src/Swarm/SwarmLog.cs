using System.Net;
using Microsoft.Extensions.Logging;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Core.Wire;

namespace P2PRegistry.Swarm;

internal static partial class SwarmLog
{
    [LoggerMessage(1, LogLevel.Information, "Downloading {Digest} ({InfoHash}): {Length} bytes in {PieceCount} pieces, {Verified} already verified; disk: {DiskIo}")]
    public static partial void DownloadStarted(ILogger logger, string digest, InfoHash infoHash, long length, int pieceCount, int verified, string diskIo);

    [LoggerMessage(2, LogLevel.Information, "Downloaded {Digest}: {Length} bytes in {Elapsed}")]
    public static partial void DownloadCompleted(ILogger logger, string digest, long length, TimeSpan elapsed);

    [LoggerMessage(3, LogLevel.Error, "Download of {Digest} failed: {Reason}")]
    public static partial void DownloadFailed(ILogger logger, string digest, string reason, Exception? exception);

    [LoggerMessage(4, LogLevel.Information, "Seeding {Digest} ({InfoHash}) from {Path}")]
    public static partial void SeedStarted(ILogger logger, string digest, InfoHash infoHash, string path);

    [LoggerMessage(10, LogLevel.Debug, "Peer {PeerId} at {EndPoint} connected to {InfoHash} ({Direction})")]
    public static partial void PeerConnected(ILogger logger, PeerId peerId, EndPoint? endPoint, InfoHash infoHash, string direction);

    [LoggerMessage(11, LogLevel.Debug, "Peer {PeerId} at {EndPoint} disconnected: {Reason}")]
    public static partial void PeerDisconnected(ILogger logger, PeerId peerId, EndPoint? endPoint, string reason);

    [LoggerMessage(12, LogLevel.Warning, "Peer {PeerId} at {EndPoint} broke the protocol: {Reason}")]
    public static partial void ProtocolViolation(ILogger logger, PeerId peerId, EndPoint? endPoint, string reason);

    [LoggerMessage(13, LogLevel.Warning, "Piece {Piece} of {InfoHash} failed its SHA-1; blacklisting peer {PeerId} at {EndPoint}")]
    public static partial void PeerBlacklisted(ILogger logger, int piece, InfoHash infoHash, PeerId peerId, EndPoint? endPoint);

    [LoggerMessage(14, LogLevel.Warning, "Piece {Piece} of {InfoHash} failed its SHA-1; its blocks came from several peers, refetching it from one")]
    public static partial void PieceFailedSeveralContributors(ILogger logger, int piece, InfoHash infoHash);

    [LoggerMessage(15, LogLevel.Debug, "Peer {PeerId} stalled with {Outstanding} requests for {Stall}; asking other peers")]
    public static partial void PeerStalled(ILogger logger, PeerId peerId, int outstanding, TimeSpan stall);

    [LoggerMessage(16, LogLevel.Debug, "Could not connect to {EndPoint}: {Reason}")]
    public static partial void ConnectFailed(ILogger logger, EndPoint endPoint, string reason);

    [LoggerMessage(17, LogLevel.Debug, "Inbound connection from {EndPoint} refused: {Reason}")]
    public static partial void InboundRefused(ILogger logger, EndPoint? endPoint, string reason);

    [LoggerMessage(20, LogLevel.Warning, "Announce of {InfoHash} failed: {Reason}")]
    public static partial void AnnounceFailed(ILogger logger, InfoHash infoHash, string reason);

    [LoggerMessage(22, LogLevel.Debug, "Announce of {InfoHash} failed while the tracker is unreachable: {Reason}")]
    public static partial void AnnounceFailedInOutage(ILogger logger, InfoHash infoHash, string reason);

    [LoggerMessage(23, LogLevel.Warning, "The tracker is unreachable ({Failures} announces failed in a row): the {Blobs} blobs announced back off, up to Swarm:AnnounceBackoffCap")]
    public static partial void TrackerUnreachable(ILogger logger, int failures, int blobs);

    [LoggerMessage(24, LogLevel.Information, "The tracker answers again after {Failures} failed announces: {Spread} blobs backing off announce within the next moments, spread out")]
    public static partial void TrackerBack(ILogger logger, int failures, int spread);

    [LoggerMessage(25, LogLevel.Information, "Closed {Closed} idle swarms (no traffic for {IdleFor}; still announced as seeds, reopened when a peer asks); {Open} open")]
    public static partial void IdleSwarmsClosed(ILogger logger, int closed, TimeSpan idleFor, int open);

    [LoggerMessage(21, LogLevel.Debug, "Announced {InfoHash} ({Event}): {PeerCount} peers, next in {Interval}")]
    public static partial void Announced(ILogger logger, InfoHash infoHash, string @event, int peerCount, TimeSpan interval);

    [LoggerMessage(40, LogLevel.Debug, "Inbound connection from {EndPoint} refused at its handshake: connection limit {Limit} reached")]
    public static partial void InboundOverLimit(ILogger logger, EndPoint? endPoint, string limit);

    [LoggerMessage(30, LogLevel.Debug, "Dropped peer {PeerId} at {EndPoint} to make room for a new one ({Limit} full): it has {Ever} given or taken a block ({Idle})")]
    public static partial void IdlePeerEvicted(ILogger logger, PeerId peerId, EndPoint? endPoint, string ever, TimeSpan idle, string limit);

    [LoggerMessage(50, LogLevel.Error, "Seed {Digest} ({InfoHash}) is corrupt on disk: piece {Piece} of {Path} failed its SHA-1; stopped seeding it")]
    public static partial void SeedQuarantined(ILogger logger, string digest, InfoHash infoHash, int piece, string path);

    [LoggerMessage(51, LogLevel.Error, "A handler of SeedCorrupted failed for {Digest}")]
    public static partial void SeedCorruptedHandlerFailed(ILogger logger, string digest, Exception exception);

    [LoggerMessage(52, LogLevel.Error, "Resumed download {Digest}: {Discarded} of the {Resumed} pieces its resume file marks verified failed their SHA-1 on disk; fetching them again")]
    public static partial void ResumedPiecesDiscarded(ILogger logger, string digest, int discarded, int resumed);

    [LoggerMessage(53, LogLevel.Warning, "Could not flush the verified pieces of {Digest} to disk: {Reason}; their record waits for the next flush")]
    public static partial void FlushFailed(ILogger logger, string digest, string reason);
}
