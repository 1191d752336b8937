using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace P2PRegistry.Hosting.Security;

/// <summary>
/// One component's TLS, built from its <see cref="TlsOptions"/>: the server certificate its listeners serve with its
/// intermediates, the CA bundle client certificates must chain to, and, for its own clients, the CA bundle servers are
/// verified against and the client certificate it presents. All four follow their files (reloaded).
/// </summary>
public sealed class ComponentTls : IDisposable
{
    private readonly ReloadingCertificate? _server;
    private readonly ReloadingCertificate? _client;
    private readonly ReloadingTrust? _serverTrust;
    private readonly ReloadingTrust? _clientTrust;
    private readonly bool _requireClientCertificate;

    /// <param name="section">The configuration section, e.g. <c>Origin:Tls</c>: named in errors and log lines.</param>
    /// <exception cref="OptionsValidationException">A setting or file is wrong; each failure names its key.</exception>
    public ComponentTls(TlsOptions options, string section, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate(section).ToList();
        if (errors.Count != 0)
        {
            throw new OptionsValidationException(section, typeof(TlsOptions), errors);
        }

        Section = section;
        _requireClientCertificate = options.RequireClientCertificate;
        if (options.HasServerCertificate)
        {
            _server = new ReloadingCertificate(options.CertificatePath!, options.KeyPath!, section + " server", options.ReloadInterval, time, logger);
        }

        if (options.HasClientCertificate)
        {
            _client = new ReloadingCertificate(options.ClientCertificatePath!, options.ClientKeyPath!, section + " client", options.ReloadInterval, time, logger);
        }

        if (!string.IsNullOrEmpty(options.CaPath))
        {
            _serverTrust = new ReloadingTrust(options.CaPath, section + ":CaPath", options.ReloadInterval, time, logger);
        }

        // ClientCaPath defaults to CaPath: one file, one reloader.
        if (options.EffectiveClientCaPath is { } clientCa)
        {
            _clientTrust = clientCa == options.CaPath
                ? _serverTrust
                : new ReloadingTrust(clientCa, section + ":ClientCaPath", options.ReloadInterval, time, logger);
        }
    }

    public string Section { get; }

    /// <summary>True when listeners can serve https.</summary>
    public bool HasServerCertificate => _server is not null;

    public bool RequireClientCertificate => _requireClientCertificate;

    /// <summary>The server pair (null without <see cref="TlsOptions.CertificatePath"/>): tests and the peer port read it.</summary>
    public ReloadingCertificate? ServerCertificate => _server;

    public ReloadingCertificate? ClientCertificate => _client;

    /// <summary>The bundle servers are verified against (null without <see cref="TlsOptions.CaPath"/>).</summary>
    public ReloadingTrust? ServerTrust => _serverTrust;

    /// <summary>The bundle client certificates are verified against (the same object as <see cref="ServerTrust"/> when they share a file).</summary>
    public ReloadingTrust? ClientTrust => _clientTrust;

    /// <summary>
    /// Kestrel's https settings for a listener: the current pair at each handshake, sent with the intermediates of its
    /// certificate file, and client certificates per the options, checked against the current client CA bundle.
    /// </summary>
    public void ConfigureServer(HttpsConnectionAdapterOptions https)
    {
        ArgumentNullException.ThrowIfNull(https);
        var server = _server ?? throw new OptionsValidationException(Section, typeof(TlsOptions), [$"An https listener needs {Section}:CertificatePath and {Section}:KeyPath."]);
        // Kestrel needs a certificate or a selector to build the listener, but a certificate a selector returns goes out
        // alone (SslStream looks for its intermediates only in the system's stores), so a client trusting only the root
        // cannot build the chain. The handshake gets the loaded pair's context instead: leaf and intermediates, built once
        // per pair.
        https.ServerCertificateSelector = (_, _) => server.Current.Certificate;
        https.OnAuthenticate = (_, ssl) =>
        {
            ssl.ServerCertificateSelectionCallback = null;
            ssl.ServerCertificate = null;
            ssl.ServerCertificateContext = server.Current.Context;
        };
        https.CheckCertificateRevocation = false;
        if (_clientTrust is null)
        {
            https.ClientCertificateMode = ClientCertificateMode.NoCertificate;
            return;
        }

        // Without mutual TLS a client certificate is still taken when offered (and must chain to the client CA): it is
        // what tells an origin from an agent (ClusterRoles).
        https.ClientCertificateMode = _requireClientCertificate ? ClientCertificateMode.RequireCertificate : ClientCertificateMode.AllowCertificate;
        var trust = _clientTrust;
        https.ClientCertificateValidation = (certificate, chain, _) => trust.Current.VerifyChainOnly(certificate, chain);
    }

    /// <summary>An HTTP (or gRPC) client's handler: servers verified against the CA bundle, and the client certificate presented.</summary>
    public void ConfigureClient(SocketsHttpHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        if (_serverTrust is { } trust)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, chain, errors) => trust.Current.VerifyServer(certificate, chain, errors);
        }

        if (_client is { } client)
        {
            handler.SslOptions.LocalCertificateSelectionCallback = (_, _, _, _, _) => client.Current.Certificate;
        }
    }

    /// <summary>
    /// Peer-port TLS, accepting side: this component's certificate, and a certificate from the CA bundle required of the
    /// dialling peer (both ends are our engines; the peer port is dialled by address, so only the chain is checked).
    /// </summary>
    public SslServerAuthenticationOptions PeerServerOptions()
    {
        var server = _server ?? throw new InvalidOperationException($"Peer-port TLS needs {Section}:CertificatePath and {Section}:KeyPath.");
        var trust = _clientTrust ?? _serverTrust ?? throw new InvalidOperationException($"Peer-port TLS needs {Section}:CaPath.");
        return new SslServerAuthenticationOptions
        {
            ServerCertificateContext = server.Current.Context,
            ClientCertificateRequired = true,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            RemoteCertificateValidationCallback = (_, certificate, chain, _) => trust.Current.VerifyChainOnly(certificate, chain),
        };
    }

    /// <summary>Peer-port TLS, dialling side: the peer's certificate must chain to the CA bundle; this component's own is presented.</summary>
    public SslClientAuthenticationOptions PeerClientOptions(string targetHost)
    {
        var own = (_client ?? _server) ?? throw new InvalidOperationException($"Peer-port TLS needs {Section}:CertificatePath and {Section}:KeyPath.");
        var trust = _serverTrust ?? _clientTrust ?? throw new InvalidOperationException($"Peer-port TLS needs {Section}:CaPath.");
        return new SslClientAuthenticationOptions
        {
            TargetHost = targetHost,
            ClientCertificateContext = own.Current.Context,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            RemoteCertificateValidationCallback = (_, certificate, chain, _) => trust.Current.VerifyChainOnly(certificate, chain),
        };
    }

    public void Dispose()
    {
        _server?.Dispose();
        _client?.Dispose();
        _serverTrust?.Dispose();
        if (!ReferenceEquals(_clientTrust, _serverTrust))
        {
            _clientTrust?.Dispose();
        }
    }
}
