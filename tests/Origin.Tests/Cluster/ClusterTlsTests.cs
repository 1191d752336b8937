using System.Net;
using System.Net.Http.Headers;
using P2PRegistry.Core.Content;
using P2PRegistry.Testing.Networking;
using P2PRegistry.Testing.Security;

namespace P2PRegistry.Origin.Tests.Cluster;

/// <summary>The cluster API over mutual TLS without a secret: only a verified certificate with the origin role gets in.</summary>
public sealed class ClusterTlsTests
{
    [Fact]
    public async Task ClusterApi_AgentCertificateOrNone_CannotPlantABlobOrATag_OriginCertificateCan()
    {
        using var authority = new TestCertificateAuthority();
        var server = authority.Issue("origin-server", TestCertificateAuthority.OriginRole);
        var self = $"https://127.0.0.1:{FreePort.Next()}";
        await using var origin = await OriginServer.StartAsync(
        [
            "--urls", self,
            $"--Origin:Tls:CertificatePath={server.CertificatePath}",
            $"--Origin:Tls:KeyPath={server.KeyPath}",
            $"--Origin:Tls:CaPath={authority.CaPath}",
            $"--Origin:Cluster:Members:0={self}",
            $"--Origin:Cluster:Members:1=https://127.0.0.1:{FreePort.Next()}",
            $"--Origin:Cluster:Self={self}",
            "--Origin:Cluster:ReplicationFactor=1",
        ]);

        var content = OriginServer.RandomBytes(5000, 11);
        var digest = Digest.Compute(content);
        var manifest = OriginServer.ImageManifest(digest, content.Length, digest, content.Length);

        async Task<(HttpStatusCode Blob, HttpStatusCode Tag)> TryAsync(HttpClient client)
        {
            using var blob = await client.PutAsync($"{self}/p2p/v1/cluster/blobs/{digest.Value}?repository=team/app", new ByteArrayContent(content));
            var body = new ByteArrayContent(manifest);
            body.Headers.ContentType = new MediaTypeHeaderValue("application/vnd.oci.image.manifest.v1+json");
            using var tag = await client.PutAsync($"{self}/p2p/v1/cluster/manifests?repository=team/app&tag=v1", body);
            return (blob.StatusCode, tag.StatusCode);
        }

        using (var anonymous = authority.CreateHttpClient())
        {
            Assert.Equal((HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized), await TryAsync(anonymous));
        }

        using (var agent = authority.CreateHttpClient(authority.Issue("agent", TestCertificateAuthority.AgentRole)))
        {
            Assert.Equal((HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized), await TryAsync(agent));
        }

        Assert.False(File.Exists(origin.BlobDataPath(digest)));
        using (var reader = authority.CreateHttpClient())
        using (var tag = await reader.GetAsync($"{self}/v2/team/app/manifests/v1"))
        {
            Assert.Equal(HttpStatusCode.NotFound, tag.StatusCode);
        }

        using (var member = authority.CreateHttpClient(authority.Issue("other-origin", TestCertificateAuthority.OriginRole)))
        {
            Assert.Equal((HttpStatusCode.Created, HttpStatusCode.Created), await TryAsync(member));
        }

        Assert.True(File.Exists(origin.BlobDataPath(digest)));
    }
}
