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

    [LoggerMessage(EventId = 9103, Level = LogLevel.Information, Message = "TLS {Name}: CA bundle {Path} loaded, {Count} certificates.")]
    public static partial void BundleLoaded(ILogger logger, string name, string path, int count);

    [LoggerMessage(EventId = 9104, Level = LogLevel.Information, Message = "TLS {Name}: CA bundle {Path} reloaded, {Previous} -> {Count} certificates.")]
    public static partial void BundleReloaded(ILogger logger, string name, string path, int previous, int count);

    [LoggerMessage(EventId = 9105, Level = LogLevel.Warning, Message = "TLS {Name}: the changed CA bundle {Path} does not load ({Error}); still verifying against the previous one ({Count} certificates).")]
    public static partial void BundleReloadFailed(ILogger logger, string name, string path, string error, int count);
}
