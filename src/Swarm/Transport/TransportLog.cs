using System.Net;
using Microsoft.Extensions.Logging;

namespace P2PRegistry.Swarm.Transport;

internal static partial class TransportLog
{
    [LoggerMessage(60, LogLevel.Debug, "Listening for peers on {EndPoint}")]
    public static partial void Listening(ILogger logger, IPEndPoint endPoint);

    [LoggerMessage(61, LogLevel.Warning, "Accepting a peer connection on {EndPoint} failed: {Reason}; retrying")]
    public static partial void AcceptFailed(ILogger logger, IPEndPoint? endPoint, string reason);

    [LoggerMessage(62, LogLevel.Error, "The connection from {EndPoint} failed")]
    public static partial void ConnectionFailed(ILogger logger, EndPoint? endPoint, Exception exception);

    [LoggerMessage(63, LogLevel.Debug, "Connection from {EndPoint} closed at once: too many waiting for their handshake ({Limit})")]
    public static partial void PendingRefused(ILogger logger, EndPoint? endPoint, string limit);

    [LoggerMessage(64, LogLevel.Information, "Connection from {EndPoint} closed: {Reason}")]
    public static partial void TlsRefused(ILogger logger, EndPoint? endPoint, string reason);
}
