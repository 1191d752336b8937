using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace P2PRegistry.Hosting.Security;

/// <summary>
/// A CA bundle as the only roots a peer's certificate may chain to (<see cref="X509ChainTrustMode.CustomRootTrust"/>):
/// the system's roots are not consulted, so a certificate from a public CA does not pass for a cluster member.
/// </summary>
public sealed class CertificateTrust
{
    private readonly X509Certificate2Collection _roots;

    private CertificateTrust(X509Certificate2Collection roots) => _roots = roots;

    /// <summary>The certificates in the bundle.</summary>
    public int Count => _roots.Count;

    public static bool TryLoad(string path, out CertificateTrust? trust, out string? error)
    {
        trust = null;
        if (!PemCertificate.TryRead(path, "CA bundle", out var pem, out error))
        {
            return false;
        }

        var roots = new X509Certificate2Collection();
        try
        {
            roots.ImportFromPem(pem);
        }
        catch (System.Security.Cryptography.CryptographicException ex)
        {
            error = $"the CA bundle does not parse: {ex.Message}";
            return false;
        }

        if (roots.Count == 0)
        {
            error = "the CA bundle holds no PEM certificate.";
            return false;
        }

        trust = new CertificateTrust(roots);
        return true;
    }

    public static CertificateTrust Load(string path) =>
        TryLoad(path, out var trust, out var error) ? trust! : throw new InvalidOperationException($"{path}: {error}");

    /// <summary>A server's certificate: its name must match the host dialled, and it must chain to the bundle.</summary>
    public bool VerifyServer(X509Certificate? certificate, X509Chain? presented, SslPolicyErrors errors) =>
        (errors & (SslPolicyErrors.RemoteCertificateNotAvailable | SslPolicyErrors.RemoteCertificateNameMismatch)) == 0
        && Chains(certificate, presented);

    /// <summary>
    /// A client's, or a peer's on the peer port (dialled by address, so no name to match; a peer's certificate serves both
    /// ways): it must chain to the bundle, and when it limits its uses (an extended key usage extension) they must
    /// include client authentication, so a server-only certificate from the cluster CA does not pass for a client.
    /// </summary>
    public bool VerifyChainOnly(X509Certificate? certificate, X509Chain? presented) =>
        certificate is not null && AllowsClientAuthentication(certificate) && Chains(certificate, presented);

    /// <summary>The TLS client authentication key purpose (RFC 5280 4.2.1.12, id-kp-clientAuth).</summary>
    public const string ClientAuthenticationOid = "1.3.6.1.5.5.7.3.2";

    /// <summary>True without an extended key usage extension (any use), else only when it lists client authentication.</summary>
    public static bool AllowsClientAuthentication(X509Certificate certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var leaf = certificate as X509Certificate2 ?? new X509Certificate2(certificate);
        foreach (var extension in leaf.Extensions)
        {
            if (extension is X509EnhancedKeyUsageExtension usage)
            {
                foreach (var oid in usage.EnhancedKeyUsages)
                {
                    if (oid.Value == ClientAuthenticationOid)
                    {
                        return true;
                    }
                }

                return false;
            }
        }

        return true;
    }

    private bool Chains(X509Certificate? certificate, X509Chain? presented)
    {
        if (certificate is null)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(_roots);
        // The cluster CA publishes no revocation list; rotation (short-lived certificates) is how trust ends.
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (presented is not null)
        {
            foreach (var element in presented.ChainElements)
            {
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        var leaf = certificate as X509Certificate2 ?? new X509Certificate2(certificate);
        return chain.Build(leaf);
    }
}
