using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace P2PRegistry.Hosting.Security;

/// <summary>A certificate with its private key, read from a PEM certificate file (leaf first, then any intermediates) and a PEM key file.</summary>
public sealed class PemCertificate
{
    private SslStreamCertificateContext? _context;

    private PemCertificate(X509Certificate2 certificate, X509Certificate2Collection intermediates)
    {
        Certificate = certificate;
        Intermediates = intermediates;
    }

    /// <summary>The leaf, with its private key.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>The certificates after the leaf in the certificate file.</summary>
    public X509Certificate2Collection Intermediates { get; }

    /// <summary>The leaf and its intermediates as SslStream sends them; built once per loaded pair, not per handshake.</summary>
    public SslStreamCertificateContext Context => _context ??= SslStreamCertificateContext.Create(Certificate, Intermediates, offline: true);

    /// <summary>Reads and checks the pair; <paramref name="error"/> says what is wrong in one sentence (missing, unreadable, not PEM, key that does not match).</summary>
    public static bool TryLoad(string certificatePath, string keyPath, out PemCertificate? certificate, out string? error)
    {
        certificate = null;
        if (!TryRead(certificatePath, "certificate", out var certificatePem, out error) || !TryRead(keyPath, "key", out var keyPem, out error))
        {
            return false;
        }

        X509Certificate2 leaf;
        try
        {
            leaf = X509Certificate2.CreateFromPem(certificatePem, keyPem);
        }
        catch (CryptographicException ex)
        {
            error = $"the certificate and key do not load as a pair: {ex.Message}";
            return false;
        }
        catch (ArgumentException ex)
        {
            error = $"the certificate and key do not load as a pair: {ex.Message}";
            return false;
        }

        if (!leaf.HasPrivateKey)
        {
            leaf.Dispose();
            error = "the key file holds no private key for the certificate.";
            return false;
        }

        var all = new X509Certificate2Collection();
        all.ImportFromPem(certificatePem);
        var intermediates = new X509Certificate2Collection();
        foreach (var item in all)
        {
            if (item.Thumbprint != leaf.Thumbprint)
            {
                intermediates.Add(item);
            }
        }

        certificate = new PemCertificate(leaf, intermediates);
        error = null;
        return true;
    }

    internal static bool TryRead(string path, string what, out string text, out string? error)
    {
        text = "";
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            error = ex is FileNotFoundException or DirectoryNotFoundException
                ? $"the {what} file does not exist."
                : $"the {what} file cannot be read: {ex.Message}";
            return false;
        }

        error = null;
        return true;
    }
}
