using Microsoft.Extensions.Logging.Abstractions;
using P2PRegistry.Hosting.Security;
using P2PRegistry.Testing.Security;

namespace P2PRegistry.Hosting.Tests.Security;

public sealed class TlsFilesTests
{
    [Fact]
    public void PemCertificate_MissingFile_SaysSo()
    {
        using var authority = new TestCertificateAuthority();
        var leaf = authority.Issue("leaf");
        Assert.False(PemCertificate.TryLoad(leaf.CertificatePath + ".missing", leaf.KeyPath, out _, out var error));
        Assert.Equal("the certificate file does not exist.", error);
        Assert.False(PemCertificate.TryLoad(leaf.CertificatePath, leaf.KeyPath + ".missing", out _, out error));
        Assert.Equal("the key file does not exist.", error);
    }

    [Fact]
    public void PemCertificate_KeyOfAnotherCertificate_DoesNotLoad()
    {
        using var authority = new TestCertificateAuthority();
        var leaf = authority.Issue("leaf");
        var other = authority.Issue("other");
        Assert.False(PemCertificate.TryLoad(leaf.CertificatePath, other.KeyPath, out _, out var error));
        Assert.StartsWith("the certificate and key do not load as a pair", error, StringComparison.Ordinal);
    }

    [Fact]
    public void PemCertificate_NotPem_DoesNotLoad()
    {
        using var authority = new TestCertificateAuthority();
        var leaf = authority.Issue("leaf");
        File.WriteAllText(leaf.CertificatePath, "half a certificate");
        Assert.False(PemCertificate.TryLoad(leaf.CertificatePath, leaf.KeyPath, out _, out _));
    }

    [Fact]
    public void PemCertificate_WithIntermediatesAfterTheLeaf_KeepsThemApart()
    {
        using var authority = new TestCertificateAuthority();
        var leaf = authority.Issue("leaf");
        File.AppendAllText(leaf.CertificatePath, File.ReadAllText(authority.CaPath));
        Assert.True(PemCertificate.TryLoad(leaf.CertificatePath, leaf.KeyPath, out var loaded, out var error), error);
        Assert.Equal(leaf.Thumbprint, loaded!.Certificate.Thumbprint);
        Assert.Equal(authority.Root.Thumbprint, Assert.Single(loaded.Intermediates).Thumbprint);
    }

    [Fact]
    public void ReloadingCertificate_ReplacedFiles_NewPairServed_HalfWrittenPairKeepsTheOld()
    {
        using var authority = new TestCertificateAuthority();
        var leaf = authority.Issue("leaf");
        using var reloading = new ReloadingCertificate(leaf.CertificatePath, leaf.KeyPath, "test", TimeSpan.FromHours(1), TimeProvider.System, NullLogger.Instance);
        Assert.Equal(leaf.Thumbprint, reloading.Current.Certificate.Thumbprint);
        Assert.False(reloading.CheckNow());

        authority.WriteMismatchedKey(leaf);
        Assert.False(reloading.CheckNow());
        Assert.Equal(leaf.Thumbprint, reloading.Current.Certificate.Thumbprint);
        Assert.False(reloading.CheckNow());

        var replaced = authority.Replace(leaf);
        Assert.True(reloading.CheckNow());
        Assert.Equal(replaced.Thumbprint, reloading.Current.Certificate.Thumbprint);
        Assert.True(reloading.Current.Certificate.HasPrivateKey);
        Assert.Equal(1, reloading.Reloads);
    }

    [Fact]
    public void ReloadingCertificate_FileGoneForAMoment_KeepsServing()
    {
        using var authority = new TestCertificateAuthority();
        var leaf = authority.Issue("leaf");
        using var reloading = new ReloadingCertificate(leaf.CertificatePath, leaf.KeyPath, "test", TimeSpan.FromHours(1), TimeProvider.System, NullLogger.Instance);
        File.Delete(leaf.KeyPath);
        Assert.False(reloading.CheckNow());
        Assert.Equal(leaf.Thumbprint, reloading.Current.Certificate.Thumbprint);
    }

    [Fact]
    public void CertificateTrust_LeafOfTheBundle_Passes_LeafOfAnotherCa_Fails()
    {
        using var authority = new TestCertificateAuthority();
        using var stranger = new TestCertificateAuthority("Stranger CA");
        Assert.True(CertificateTrust.TryLoad(authority.CaPath, out var trust, out var error), error);
        Assert.True(trust!.VerifyChainOnly(authority.Issue("ours").Certificate, null));
        Assert.False(trust.VerifyChainOnly(stranger.Issue("theirs").Certificate, null));
        Assert.False(trust.VerifyChainOnly(null, null));
        Assert.False(trust.VerifyServer(authority.Issue("ours2").Certificate, null, System.Net.Security.SslPolicyErrors.RemoteCertificateNameMismatch));
        Assert.True(trust.VerifyServer(authority.Issue("ours3").Certificate, null, System.Net.Security.SslPolicyErrors.RemoteCertificateChainErrors));
    }

    [Fact]
    public void CertificateTrust_EmptyBundle_DoesNotLoad()
    {
        using var authority = new TestCertificateAuthority();
        var path = Path.Combine(authority.Directory, "empty.crt");
        File.WriteAllText(path, "");
        Assert.False(CertificateTrust.TryLoad(path, out _, out var error));
        Assert.Equal("the CA bundle holds no PEM certificate.", error);
    }

    [Fact]
    public void TlsOptions_Validate_NamesEveryKey()
    {
        using var authority = new TestCertificateAuthority();
        var leaf = authority.Issue("leaf");
        Assert.Empty(new TlsOptions { CertificatePath = leaf.CertificatePath, KeyPath = leaf.KeyPath, CaPath = authority.CaPath, RequireClientCertificate = true }.Validate("X:Tls"));

        var errors = new TlsOptions { CertificatePath = leaf.CertificatePath, ClientKeyPath = leaf.KeyPath, RequireClientCertificate = true, ReloadInterval = TimeSpan.Zero }.Validate("X:Tls").ToList();
        Assert.Contains(errors, e => e.StartsWith("X:Tls:CertificatePath and X:Tls:KeyPath go together", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("X:Tls:ClientCertificatePath and X:Tls:ClientKeyPath go together", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("X:Tls:RequireClientCertificate needs X:Tls:ClientCaPath or X:Tls:CaPath", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("X:Tls:ReloadInterval must be positive", StringComparison.Ordinal));

        var missing = new TlsOptions { CaPath = "/nonexistent/ca.crt" }.Validate("X:Tls").ToList();
        Assert.Equal("X:Tls:CaPath '/nonexistent/ca.crt': the CA bundle file does not exist.", Assert.Single(missing));
    }
}
