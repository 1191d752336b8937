using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using P2PRegistry.Testing.FileSystem;

namespace P2PRegistry.Testing.Security;

/// <summary>
/// A throw-away certificate authority for TLS tests: an ECDSA P-256 root written as <c>ca.crt</c>, and leaf certificates
/// it signs (SANs <c>localhost</c> and 127.0.0.1, server and client use, optionally a cluster role URI) written as PEM
/// pairs a component reads with <c>&lt;Component&gt;:Tls:CertificatePath</c>/<c>KeyPath</c>. <see cref="Replace"/> puts a
/// new certificate in a leaf's files, as cert-manager rotates one. <see cref="CreateIntermediate"/> gives an issuing CA
/// under the root whose leaves' files hold the leaf followed by the intermediate (cert-manager's <c>tls.crt</c>).
/// Everything lives in a temp folder deleted on dispose.
/// </summary>
public sealed class TestCertificateAuthority : IDisposable
{
    /// <summary>The URI SANs components read a peer's role from (<c>P2PRegistry.Hosting.Security.ClusterRoles</c>).</summary>
    public const string OriginRole = "urn:p2pregistry:role:origin";

    public const string AgentRole = "urn:p2pregistry:role:agent";

    /// <summary>The id-kp-serverAuth extended key usage (RFC 5280 4.2.1.12).</summary>
    public const string ServerAuthentication = "1.3.6.1.5.5.7.3.1";

    /// <summary>The id-kp-clientAuth extended key usage: every leaf this authority issues has it unless told otherwise.</summary>
    public const string ClientAuthentication = "1.3.6.1.5.5.7.3.2";

    private readonly TempDirectory _directory;
    private readonly ECDsa _key;
    private readonly X509Certificate2 _root;
    private readonly X509Certificate2 _trustAnchor;
    private readonly string _chainPem;

    public TestCertificateAuthority(string name = "P2PRegistry Test CA")
    {
        _directory = new TempDirectory("ca");
        _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", _key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        var now = DateTimeOffset.UtcNow;
        _root = request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(2));
        _trustAnchor = _root;
        _chainPem = "";
        CaPath = Path.Combine(_directory.Path, "ca.crt");
        File.WriteAllText(CaPath, _root.ExportCertificatePem() + "\n");
    }

    private TestCertificateAuthority(TestCertificateAuthority parent, string name)
    {
        _directory = new TempDirectory("ca-intermediate");
        _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", _key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(parent._root, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        var now = DateTimeOffset.UtcNow;
        using var issued = request.Create(parent._root.SubjectName, X509SignatureGenerator.CreateForECDsa(parent._key), now.AddMinutes(-5), now.AddDays(2), serial);
        _root = issued.CopyWithPrivateKey(_key);
        _trustAnchor = parent._trustAnchor;
        _chainPem = _root.ExportCertificatePem() + "\n" + parent._chainPem;
        CaPath = Path.Combine(_directory.Path, "ca.crt");
        File.WriteAllText(CaPath, _trustAnchor.ExportCertificatePem() + "\n");
    }

    /// <summary>The folder holding every file this authority wrote.</summary>
    public string Directory => _directory.Path;

    /// <summary>
    /// The root certificate, PEM: the CA bundle (<c>CaPath</c>, hosts.toml <c>ca</c>, skopeo's <c>ca.crt</c>). For an
    /// intermediate, the root above it (only the root: the intermediate reaches clients in the servers' chains).
    /// </summary>
    public string CaPath { get; }

    /// <summary>The certificate this authority signs with: the root, or for an intermediate the intermediate itself.</summary>
    public X509Certificate2 Root => _root;

    /// <summary>
    /// An issuing CA signed by this one. Its leaves' certificate files hold the leaf, then the intermediate; its
    /// <see cref="CaPath"/>, <see cref="CreateHttpClient"/> and <see cref="Verifies(X509Certificate?, X509Chain?)"/> trust
    /// the root alone. Dispose it as well.
    /// </summary>
    public TestCertificateAuthority CreateIntermediate(string name = "P2PRegistry Test Intermediate CA") => new(this, name);

    /// <summary>
    /// Signs a leaf and writes <c>&lt;name&gt;.crt</c> and <c>&lt;name&gt;.key</c> (PKCS#8). <paramref name="roleUri"/> adds a URI SAN
    /// (<see cref="OriginRole"/>, <see cref="AgentRole"/>, or anything else). <paramref name="extendedKeyUsages"/> are the
    /// OIDs of the extended key usage extension: null = server and client authentication, empty = no such extension.
    /// </summary>
    public TestCertificate Issue(string name, string? roleUri = null, string? dnsName = "localhost", IPAddress? address = null, IReadOnlyList<string>? extendedKeyUsages = null) =>
        Issue(name, roleUri is null ? [] : [roleUri], dnsName, address ?? IPAddress.Loopback, extendedKeyUsages);

    /// <summary>Like <see cref="Issue(string, string?, string?, IPAddress?, IReadOnlyList{string}?)"/>, with every one of <paramref name="uris"/> as a URI SAN, in order.</summary>
    public TestCertificate IssueWithUris(string name, params string[] uris) => Issue(name, uris, "localhost", IPAddress.Loopback, null);

    private TestCertificate Issue(string name, IReadOnlyList<string> uris, string? dnsName, IPAddress address, IReadOnlyList<string>? extendedKeyUsages)
    {
        var certificatePath = Path.Combine(Directory, name + ".crt");
        var keyPath = Path.Combine(Directory, name + ".key");
        var (certificate, key) = Sign(name, uris, dnsName, address, extendedKeyUsages);
        File.WriteAllText(keyPath, key);
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem() + "\n" + _chainPem);
        return new TestCertificate(name, certificatePath, keyPath, certificate, uris, dnsName, address);
    }

    /// <summary>
    /// A new certificate (new key, new serial) for <paramref name="leaf"/>, written over its two files: the key first, then
    /// the certificate, so a reader between the two sees the new key with the old certificate (a pair that does not load),
    /// as in a rotation that is not atomic.
    /// </summary>
    public TestCertificate Replace(TestCertificate leaf)
    {
        ArgumentNullException.ThrowIfNull(leaf);
        var (certificate, key) = Sign(leaf.Name, leaf.Uris, leaf.DnsName, leaf.Address);
        WriteInPlace(leaf.KeyPath, key);
        WriteInPlace(leaf.CertificatePath, certificate.ExportCertificatePem() + "\n" + _chainPem);
        return leaf with { Certificate = certificate };
    }

    /// <summary>Writes only a new key into a leaf's key file: the pair on disk then does not match (a half-written rotation).</summary>
    public void WriteMismatchedKey(TestCertificate leaf)
    {
        ArgumentNullException.ThrowIfNull(leaf);
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var pem = other.ExportPkcs8PrivateKeyPem() + "\n";
        Logging.TestSecrets.RegisterPrivateKeyPem(pem, $"mismatched private key of {leaf.Name}");
        WriteInPlace(leaf.KeyPath, pem);
    }

    /// <summary>
    /// An HttpClient that trusts this CA's root only (the system's roots are not consulted; intermediates only as the server
    /// sends them) and presents <paramref name="clientCertificate"/> when a server asks for one. New connections only (no
    /// pooling), so each request sees the certificate served now.
    /// </summary>
    public HttpClient CreateHttpClient(TestCertificate? clientCertificate = null, TimeSpan? timeout = null)
    {
        var handler = new SocketsHttpHandler { UseProxy = false, PooledConnectionLifetime = TimeSpan.Zero };
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, chain, errors) =>
            (errors & System.Net.Security.SslPolicyErrors.RemoteCertificateNameMismatch) == 0 && Verifies(certificate, chain);
        if (clientCertificate is not null)
        {
            handler.SslOptions.ClientCertificates = [clientCertificate.Certificate];
        }

        return new HttpClient(handler) { Timeout = timeout ?? TimeSpan.FromSeconds(30) };
    }

    /// <summary>Whether <paramref name="certificate"/> chains to this CA's root alone.</summary>
    public bool Verifies(X509Certificate? certificate) => Verifies(certificate, null);

    /// <summary>
    /// Whether <paramref name="certificate"/> chains to this CA's root alone, with the intermediates the peer sent: those
    /// in <paramref name="presented"/>, the chain a TLS validation callback receives (SslStream puts what the peer sent in
    /// its extra store).
    /// </summary>
    public bool Verifies(X509Certificate? certificate, X509Chain? presented)
    {
        if (certificate is null)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(_trustAnchor);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (presented is not null)
        {
            chain.ChainPolicy.ExtraStore.AddRange(presented.ChainPolicy.ExtraStore);
        }

        return chain.Build(certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
    }

    /// <summary>
    /// Opens a TLS connection to 127.0.0.1:<paramref name="port"/> (trusting any certificate) and returns the certificate the
    /// server presented: how a test sees which certificate a listener serves now.
    /// </summary>
    public static async Task<X509Certificate2> ServedCertificateAsync(int port, TestCertificate? clientCertificate = null, CancellationToken cancellationToken = default)
    {
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port, cancellationToken).ConfigureAwait(false);
        using var tls = new System.Net.Security.SslStream(tcp.GetStream());
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(TimeSpan.FromSeconds(30));
        await tls.AuthenticateAsClientAsync(new System.Net.Security.SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            RemoteCertificateValidationCallback = (_, _, _, _) => true,
            ClientCertificates = clientCertificate is null ? null : [clientCertificate.Certificate],
        }, bounded.Token).ConfigureAwait(false);
        return X509CertificateLoader.LoadCertificate(tls.RemoteCertificate!.GetRawCertData());
    }

    /// <summary>
    /// Opens a TLS connection to 127.0.0.1:<paramref name="port"/> and returns the certificates the server sent after its leaf
    /// (the intermediates; empty when it sends the leaf alone).
    /// </summary>
    public static async Task<IReadOnlyList<X509Certificate2>> ServedIntermediatesAsync(int port, TestCertificate? clientCertificate = null, CancellationToken cancellationToken = default)
    {
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port, cancellationToken).ConfigureAwait(false);
        using var tls = new System.Net.Security.SslStream(tcp.GetStream());
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(TimeSpan.FromSeconds(30));
        var sent = new List<X509Certificate2>();
        await tls.AuthenticateAsClientAsync(new System.Net.Security.SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            RemoteCertificateValidationCallback = (_, leaf, chain, _) =>
            {
                // SslStream puts every certificate the server sent, the leaf included, in the chain's extra store.
                foreach (var item in chain?.ChainPolicy.ExtraStore ?? [])
                {
                    if (leaf is null || !item.RawData.AsSpan().SequenceEqual(leaf.GetRawCertData()))
                    {
                        sent.Add(X509CertificateLoader.LoadCertificate(item.RawData));
                    }
                }

                return true;
            },
            ClientCertificates = clientCertificate is null ? null : [clientCertificate.Certificate],
        }, bounded.Token).ConfigureAwait(false);
        return sent;
    }

    public void Dispose()
    {
        _key.Dispose();
        _root.Dispose();
        _directory.Dispose();
    }

    private (X509Certificate2 Certificate, string KeyPem) Sign(string name, IReadOnlyList<string> uris, string? dnsName, IPAddress address, IReadOnlyList<string>? extendedKeyUsages = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        if (extendedKeyUsages is null)
        {
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
                [new Oid(ServerAuthentication, "Server Authentication"), new Oid(ClientAuthentication, "Client Authentication")], critical: false));
        }
        else if (extendedKeyUsages.Count > 0)
        {
            var oids = new OidCollection();
            foreach (var oid in extendedKeyUsages)
            {
                oids.Add(new Oid(oid));
            }

            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(oids, critical: false));
        }

        var names = new SubjectAlternativeNameBuilder();
        if (dnsName is not null)
        {
            names.AddDnsName(dnsName);
        }

        names.AddIpAddress(address);
        foreach (var uri in uris)
        {
            names.AddUri(new Uri(uri));
        }

        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(_root, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        var now = DateTimeOffset.UtcNow;
        using var issued = request.Create(_root.SubjectName, X509SignatureGenerator.CreateForECDsa(_key), now.AddMinutes(-5), now.AddDays(1), serial);
        var withKey = issued.CopyWithPrivateKey(key);
        var pem = key.ExportPkcs8PrivateKeyPem() + "\n";
        Logging.TestSecrets.RegisterPrivateKeyPem(pem, $"private key of {name}");
        return (withKey, pem);
    }

    private static void WriteInPlace(string path, string content)
    {
        // Rename over the old file, as a secret volume's update does: a reader sees the whole old or the whole new file.
        var temp = path + ".tmp";
        File.WriteAllText(temp, content);
        File.Move(temp, path, overwrite: true);
    }
}

/// <summary>A leaf a <see cref="TestCertificateAuthority"/> issued: its PEM files and the certificate (with its private key).</summary>
public sealed record TestCertificate(string Name, string CertificatePath, string KeyPath, X509Certificate2 Certificate, IReadOnlyList<string> Uris, string? DnsName, IPAddress Address)
{
    public string SerialNumber => Certificate.SerialNumber;

    public string Thumbprint => Certificate.Thumbprint;

    /// <summary>A folder in skopeo's <c>--dest-cert-dir</c>/<c>--src-cert-dir</c> layout: <c>ca.crt</c>, <c>client.cert</c>, <c>client.key</c> (client files only when <paramref name="withClientCertificate"/>).</summary>
    public string WriteSkopeoCertDirectory(string directory, string caPath, bool withClientCertificate)
    {
        System.IO.Directory.CreateDirectory(directory);
        File.Copy(caPath, Path.Combine(directory, "ca.crt"), overwrite: true);
        if (withClientCertificate)
        {
            File.Copy(CertificatePath, Path.Combine(directory, "client.cert"), overwrite: true);
            File.Copy(KeyPath, Path.Combine(directory, "client.key"), overwrite: true);
        }

        return directory;
    }
}
