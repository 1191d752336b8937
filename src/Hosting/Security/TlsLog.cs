using Microsoft.Extensions.Logging;

namespace P2PRegistry.Hosting.Security;

internal static partial class TlsLog
{
    [LoggerMessage(EventId = 9100, Level = LogLevel.Information, Message = "TLS {Name}: certificate {Subject} serial {Serial} loaded, valid until {NotAfter:u}.")]
    public static partial void CertificateLoaded(ILogger logger, string name, string subject, string serial, DateTime notAfter);

    [LoggerMessage(EventId = 9101, Level = LogLevel.Information, Message = "TLS {Name}: certificate reloaded, serial {Previous} -> {Serial}, valid until {NotAfter:u}.")]
    public static partial void CertificateReloaded(ILogger logger, string name, string previous, string serial, DateTime notAfter);

    [LoggerMessage(EventId = 9102, Level = LogLevel.Warning, Message = "TLS {Name}: the changed certificate files do not load ({Error}); still serving serial {Serial}.")]
    public static partial void ReloadFailed(ILogger logger, string name, string error, string serial);
}
