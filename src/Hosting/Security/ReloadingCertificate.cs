using Microsoft.Extensions.Logging;

namespace P2PRegistry.Hosting.Security;

/// <summary>
/// A certificate and key pair that follows its files: every <see cref="TlsOptions.ReloadInterval"/> the two files are
/// read, and when their bytes changed the new pair is loaded and served from the next handshake on. cert-manager (and a
/// Kubernetes secret volume) replaces the files in place, so a check can see the new certificate with the old key: such
/// a pair does not load, the old one stays in service, and the next check tries again. A pair that failed is logged
/// once, not at every check.
/// </summary>
public sealed class ReloadingCertificate : IDisposable
{
    private readonly string _certificatePath;
    private readonly string _keyPath;
    private readonly string _name;
    private readonly ILogger _logger;
    private readonly ITimer _timer;
    private readonly Lock _checking = new();
    private PemCertificate _current;
    private byte[] _loadedStamp;
    private byte[]? _failedStamp;

    /// <param name="name">What the pair is for, in log lines: e.g. <c>Origin:Tls server</c>.</param>
    public ReloadingCertificate(string certificatePath, string keyPath, string name, TimeSpan interval, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(time);
        _certificatePath = certificatePath;
        _keyPath = keyPath;
        _name = name;
        _logger = logger;
        _loadedStamp = Stamp() ?? [];
        if (!PemCertificate.TryLoad(certificatePath, keyPath, out var loaded, out var error))
        {
            throw new InvalidOperationException($"{name}: {certificatePath} with {keyPath}: {error}");
        }

        _current = loaded!;
        TlsLog.CertificateLoaded(logger, name, _current.Certificate.Subject, _current.Certificate.SerialNumber, _current.Certificate.NotAfter);
        _timer = time.CreateTimer(static state => ((ReloadingCertificate)state!).CheckNow(), this, interval, interval);
    }

    /// <summary>The pair in service now.</summary>
    public PemCertificate Current => Volatile.Read(ref _current);

    /// <summary>Pairs loaded after the first (tests wait on it).</summary>
    public int Reloads { get; private set; }

    /// <summary>Compares the files with what is in service and loads them when they changed; true when a new pair went into service.</summary>
    public bool CheckNow()
    {
        lock (_checking)
        {
            var stamp = Stamp();
            if (stamp is null || stamp.AsSpan().SequenceEqual(_loadedStamp) || (_failedStamp is not null && stamp.AsSpan().SequenceEqual(_failedStamp)))
            {
                return false;
            }

            if (!PemCertificate.TryLoad(_certificatePath, _keyPath, out var loaded, out var error))
            {
                _failedStamp = stamp;
                TlsLog.ReloadFailed(_logger, _name, error ?? "", _current.Certificate.SerialNumber);
                return false;
            }

            var previous = _current.Certificate.SerialNumber;
            Volatile.Write(ref _current, loaded!);
            _loadedStamp = stamp;
            _failedStamp = null;
            Reloads++;
            TlsLog.CertificateReloaded(_logger, _name, previous, loaded!.Certificate.SerialNumber, loaded.Certificate.NotAfter);
            return true;
        }
    }

    public void Dispose() => _timer.Dispose();

    private byte[]? Stamp() => FileStamp.Of(_certificatePath, _keyPath);
}
