using P2PRegistry.Integration.Tests.Origin;
using P2PRegistry.Testing.Security;

namespace P2PRegistry.Integration.Tests.Security;

/// <summary>
/// Push users over TLS, as processes with the real skopeo: the origin serves https with a certificate from a test CA and
/// takes push users from an htpasswd file written by the real <c>htpasswd -B</c>; skopeo verifies the origin against
/// <c>ca.crt</c> alone (<c>--dest-cert-dir</c>, never <c>--dest-tls-verify=false</c>) and pushes with <c>--dest-creds</c>.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class TlsPushCredentialsTests(ITestOutputHelper output)
{
    private const string AlicePassword = "alice-Tls-Pw-0";

    [Fact]
    public async Task SkopeoCredsOverVerifiedTls_InsidePrefixPushes_WrongPasswordAndOutsidePrefixRefused_PulledBackByDigest()
    {
        var image = (await TestImages.GetAsync()).SmallAmd64;
        using var work = new TempDirectory("tls-push-creds");
        using var authority = new TestCertificateAuthority();
        var htpasswd = await Htpasswd.WriteAsync(work.Combine("users.htpasswd"), [("alice", AlicePassword), ("bob", "bob-Tls-Pw-1")]);
        await using var cluster = await TlsCluster.StartAsync(
            authority,
            new TlsClusterOptions { Agents = 0, HtpasswdFile = htpasswd, PushUsers = new Dictionary<string, string[]> { ["alice"] = ["team/"], ["bob"] = ["tools/"] } },
            Log);
        var certs = cluster.AgentCertificate.WriteSkopeoCertDirectory(work.Combine("certs"), authority.CaPath, withClientCertificate: false);
        Assert.Equal(["ca.crt"], Directory.GetFiles(certs).Select(Path.GetFileName));
        var alice = $"alice:{AlicePassword}";

        // The right credentials but no CA: skopeo does not trust the origin, so verification is really on.
        var unverified = await PushAsync(image.Reference, Skopeo.Docker(cluster.OriginHost, "team/app", "v1"), certDirectory: null, alice);
        Assert.False(unverified.Succeeded, "skopeo trusted a certificate from an unknown CA: " + unverified.Describe());
        Assert.Contains("certificate", unverified.StandardError, StringComparison.OrdinalIgnoreCase);

        // Inside alice's prefix, verified against ca.crt: pushed, and skopeo wrote the image's own manifest digest.
        var digestFile = work.Combine("digest");
        var pushed = await PushAsync(image.Reference, Skopeo.Docker(cluster.OriginHost, "team/app", "v1"), certs, alice, digestFile);
        Assert.True(pushed.Succeeded, pushed.Describe());
        Assert.Equal(image.ManifestDigest, (await File.ReadAllTextAsync(digestFile)).Trim());

        // A wrong password over the same verified TLS: 401.
        var wrong = await PushAsync(image.Reference, Skopeo.Docker(cluster.OriginHost, "team/app", "v2"), certs, "alice:not-" + AlicePassword);
        output.WriteLine($"[test] skopeo, wrong password: {wrong.StandardError}");
        Assert.False(wrong.Succeeded, "a wrong password was accepted over TLS");
        Assert.Contains("unauthorized", wrong.StandardError, StringComparison.OrdinalIgnoreCase);

        // No credentials: anonymous push is off once push users are configured.
        var anonymous = await PushAsync(image.Reference, Skopeo.Docker(cluster.OriginHost, "team/app", "v3"), certs, credentials: null);
        Assert.False(anonymous.Succeeded, "an anonymous push was accepted over TLS");
        Assert.Contains("unauthorized", anonymous.StandardError, StringComparison.OrdinalIgnoreCase);

        // A real user outside its prefix (bob has only 'tools/'): 403 DENIED.
        var outside = await PushAsync(image.Reference, Skopeo.Docker(cluster.OriginHost, "team/other", "v1"), certs, "bob:bob-Tls-Pw-1");
        output.WriteLine($"[test] skopeo, outside the prefix: {outside.StandardError}");
        Assert.False(outside.Succeeded, "a push outside the user's prefixes was accepted over TLS");
        Assert.Contains("denied", outside.StandardError, StringComparison.OrdinalIgnoreCase);

        // Pulled back over verified TLS (anonymous pull): the same manifest digest, every blob intact; the refused pushes left no tag.
        var copy = work.Combine("pulled");
        var pulled = await ProcessRunner.RunAsync(
            "skopeo",
            ["--insecure-policy", "copy", "--src-no-creds", $"--src-cert-dir={certs}", Skopeo.Docker(cluster.OriginHost, "team/app", "v1"), Skopeo.Dir(copy)],
            TimeSpan.FromMinutes(3));
        Assert.True(pulled.Succeeded, pulled.Describe());
        var layout = DirImageLayout.Open(copy);
        Assert.Equal(image.ManifestDigest, layout.ManifestDigest());
        Assert.Empty(layout.Problems());
        var tags = await ProcessRunner.RunAsync(
            "skopeo",
            ["--insecure-policy", "list-tags", "--no-creds", $"--cert-dir={certs}", $"docker://{cluster.OriginHost}/team/app"],
            TimeSpan.FromMinutes(1));
        Assert.True(tags.Succeeded, tags.Describe());
        Assert.Contains("\"v1\"", tags.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("\"v2\"", tags.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("\"v3\"", tags.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain(AlicePassword, cluster.Origin.RecentOutput(), StringComparison.Ordinal);
    }

    private static Task<ProcessResult> PushAsync(string source, string destination, string? certDirectory, string? credentials, string? digestFile = null)
    {
        List<string> arguments = ["--insecure-policy", "copy", "--preserve-digests", credentials is null ? "--dest-no-creds" : $"--dest-creds={credentials}"];
        if (certDirectory is not null)
        {
            arguments.Add($"--dest-cert-dir={certDirectory}");
        }

        if (digestFile is not null)
        {
            arguments.Add($"--digestfile={digestFile}");
        }

        arguments.Add(source);
        arguments.Add(destination);
        return ProcessRunner.RunAsync("skopeo", arguments, TimeSpan.FromMinutes(3));
    }

    private Action<string> Log(string name) => line =>
    {
        try
        {
            output.WriteLine($"[{name}] {line}");
        }
        catch (InvalidOperationException)
        {
            // Output after the test ended.
        }
    };
}
