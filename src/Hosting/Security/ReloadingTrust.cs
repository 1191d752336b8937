using Microsoft.Extensions.Logging;

namespace P2PRegistry.Hosting.Security;

/// <summary>
/// A CA bundle that follows its file, as <see cref="ReloadingCertificate"/> follows a pair: every
/// <see cref="TlsOptions.ReloadInterval"/> the file is read, and when its bytes changed the new bundle verifies from the
/// next handshake on. A CA rotation adds the new root to the bundle before any certificate from it is issued, so a bundle
/// read at start only would refuse the new certificates until a restart. A bundle that does not parse (or holds no
/// certificate) leaves the old one in service and is logged once, not at every check.
/// </summary>
public sealed class ReloadingTrust : IDisposable
{
    private readonly string _path;
    private readonly string _name;
    private readonly ILogger _logger;
    private readonly ITimer _timer;
    private readonly Lock _checking = new();
    private CertificateTrust _current;
    private byte[] _loadedStamp;
    private byte[]? _failedStamp;

    /// <param name="name">What the bundle is for, in log lines: e.g. <c>Origin:Tls:CaPath</c>.</param>
    /// <exception cref="InvalidOperationException">The bundle does not load at start.</exception>
    public ReloadingTrust(string path, string name, TimeSpan interval, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(time);
        _path = path;
        _name = name;
        _logger = logger;
        _loadedStamp = FileStamp.Of(path) ?? [];
        _current = CertificateTrust.Load(path);
        TlsLog.BundleLoaded(logger, name, path, _current.Count);
        _timer = time.CreateTimer(static state => ((ReloadingTrust)state!).CheckNow(), this, interval, interval);
    }

    /// <summary>The bundle in service now.</summary>
    public CertificateTrust Current => Volatile.Read(ref _current);

    /// <summary>Bundles loaded after the first (tests wait on it).</summary>
    public int Reloads { get; private set; }

    /// <summary>Compares the file with what is in service and loads it when it changed; true when a new bundle went into service.</summary>
    public bool CheckNow()
    {
        lock (_checking)
        {
            var stamp = FileStamp.Of(_path);
            if (stamp is null || stamp.AsSpan().SequenceEqual(_loadedStamp) || (_failedStamp is not null && stamp.AsSpan().SequenceEqual(_failedStamp)))
            {
                return false;
            }

            if (!CertificateTrust.TryLoad(_path, out var loaded, out var error))
            {
                _failedStamp = stamp;
                TlsLog.BundleReloadFailed(_logger, _name, _path, error ?? "", _current.Count);
                return false;
            }

            var previous = _current.Count;
            Volatile.Write(ref _current, loaded!);
            _loadedStamp = stamp;
            _failedStamp = null;
            Reloads++;
            TlsLog.BundleReloaded(_logger, _name, _path, previous, loaded!.Count);
            return true;
        }
    }

    public void Dispose() => _timer.Dispose();
}
