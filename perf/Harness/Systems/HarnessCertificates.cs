using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace P2PRegistry.Harness.Systems;

/// <summary>
/// For <c>--tls</c>: a throw-away CA (<c>ca.crt</c>) and one certificate every component serves and presents
/// (<c>node.crt</c>/<c>node.key</c>), valid for 127.0.0.1 and every lab host's address.
/// </summary>
internal sealed record HarnessCertificates(string CaPath, string CertificatePath, string KeyPath)
{
    public static HarnessCertificates Write(string directory, IEnumerable<string> addresses)
    {
        Directory.CreateDirectory(directory);
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=P2PRegistry harness CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        var now = DateTimeOffset.UtcNow;
        using var ca = caRequest.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(2));

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=P2PRegistry harness node", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        foreach (var address in addresses.Append("127.0.0.1").Distinct())
        {
            names.AddIpAddress(IPAddress.Parse(address));
        }

        request.CertificateExtensions.Add(names.Build());
        using var leaf = request.Create(ca, now.AddMinutes(-5), now.AddDays(1), RandomNumberGenerator.GetBytes(16));

        var certificates = new HarnessCertificates(Path.Combine(directory, "ca.crt"), Path.Combine(directory, "node.crt"), Path.Combine(directory, "node.key"));
        File.WriteAllText(certificates.CaPath, ca.ExportCertificatePem() + "\n");
        File.WriteAllText(certificates.CertificatePath, leaf.ExportCertificatePem() + "\n");
        File.WriteAllText(certificates.KeyPath, key.ExportPkcs8PrivateKeyPem() + "\n");
        return certificates;
    }

    /// <summary><c>--&lt;Component&gt;:Tls:…</c>: serve this certificate, verify servers against the CA, present it as client certificate.</summary>
    public IEnumerable<string> Arguments(string section) =>
    [
        $"--{section}:Tls:CertificatePath={CertificatePath}",
        $"--{section}:Tls:KeyPath={KeyPath}",
        $"--{section}:Tls:CaPath={CaPath}",
    ];
}
