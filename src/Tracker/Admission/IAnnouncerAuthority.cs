using System.Net;
using System.Security.Cryptography.X509Certificates;

namespace P2PRegistry.Tracker.Admission;

/// <summary>Decides who an announcer is from its connection: both transports (BEP 3 HTTP, gRPC) ask the same authority.</summary>
internal interface IAnnouncerAuthority
{
    /// <param name="source">The connection's remote address.</param>
    /// <param name="clientCertificate">The certificate the client presented in the TLS handshake, if any (Kestrel has validated its chain).</param>
    AnnouncerIdentity Identify(IPAddress source, X509Certificate2? clientCertificate);
}

internal static class AnnouncerAuthorityExtensions
{
    /// <summary>The identity of an HTTP request or gRPC call (<c>ServerCallContext.GetHttpContext()</c>).</summary>
    public static AnnouncerIdentity Identify(this IAnnouncerAuthority authority, HttpContext context) =>
        authority.Identify(context.Connection.RemoteIpAddress ?? IPAddress.None, context.Connection.ClientCertificate);
}
