using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using P2PRegistry.Core.Content;

namespace P2PRegistry.Origin.Tests.Registry;

/// <summary>OCI distribution 1.1 referrers on the origin, in process (the real processes: Integration.Tests ReferrersTests).</summary>
public sealed class ReferrersApiTests(OriginFixture fixture) : IClassFixture<OriginFixture>
{
    private const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    private const string OciIndex = "application/vnd.oci.image.index.v1+json";
    private const string EmptyConfig = "application/vnd.oci.empty.v1+json";

    private readonly OriginServer _origin = fixture.Server;

    private HttpClient Client => _origin.Client;

    /// <summary>An artifact manifest (empty config, one layer) whose subject is <paramref name="subject"/>.</summary>
    private async Task<(Digest Digest, HttpResponseMessage Put)> PushArtifactAsync(string repository, Digest subject, string artifactType, int seed, string? reference = null)
    {
        var config = await _origin.PushBlobAsync(repository, "{}"u8.ToArray());
        var layerBytes = OriginServer.RandomBytes(50, seed);
        var layer = await _origin.PushBlobAsync(repository, layerBytes);
        var body = Encoding.UTF8.GetBytes($$$"""
            {"schemaVersion":2,"mediaType":"{{{OciManifest}}}","artifactType":"{{{artifactType}}}",
             "config":{"mediaType":"{{{EmptyConfig}}}","digest":"{{{config.Value}}}","size":2},
             "layers":[{"mediaType":"application/octet-stream","digest":"{{{layer.Value}}}","size":{{{layerBytes.Length}}} }],
             "subject":{"mediaType":"{{{OciManifest}}}","digest":"{{{subject.Value}}}","size":100},
             "annotations":{"seed":"{{{seed}}}"}}
            """);
        var digest = Digest.Compute(body);
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue(OciManifest);
        var put = await Client.PutAsync($"/v2/{repository}/manifests/{reference ?? digest.Value}", content);
        return (digest, put);
    }

    private async Task<(JsonElement[] Manifests, HttpResponseMessage Response)> GetReferrersAsync(string path)
    {
        var response = await Client.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(OciIndex, response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync());
        return ([.. json.RootElement.GetProperty("manifests").EnumerateArray().Select(e => e.Clone())], response);
    }

    [Fact]
    public async Task PutWithSubject_AnswersOciSubject_AndIsListedWithArtifactTypeAndAnnotations()
    {
        var (subject, _) = await _origin.PushImageAsync("ref/basic", "v1");
        var (digest, put) = await PushArtifactAsync("ref/basic", subject, "application/vnd.example.sbom", 1);
        using (put)
        {
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
            Assert.Equal(subject.Value, put.Headers.GetValues("OCI-Subject").Single());
        }

        var (manifests, response) = await GetReferrersAsync($"/v2/ref/basic/referrers/{subject.Value}");
        using (response)
        {
            var entry = Assert.Single(manifests);
            Assert.Equal(digest.Value, entry.GetProperty("digest").GetString());
            Assert.Equal(OciManifest, entry.GetProperty("mediaType").GetString());
            Assert.Equal("application/vnd.example.sbom", entry.GetProperty("artifactType").GetString());
            Assert.Equal("1", entry.GetProperty("annotations").GetProperty("seed").GetString());
            using var manifest = await Client.GetAsync($"/v2/ref/basic/manifests/{digest.Value}");
            Assert.Equal(entry.GetProperty("size").GetInt64(), manifest.Content.Headers.ContentLength);
            Assert.False(response.Headers.Contains("OCI-Filters-Applied"));
        }
    }

    [Fact]
    public async Task PutWithoutSubject_HasNoOciSubjectHeader()
    {
        var config = await _origin.PushBlobAsync("ref/plain", [1]);
        using var content = new ByteArrayContent(OriginServer.ImageManifest(config, 1, config, 1));
        content.Headers.ContentType = new MediaTypeHeaderValue(OciManifest);
        using var put = await Client.PutAsync("/v2/ref/plain/manifests/v1", content);
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        Assert.False(put.Headers.Contains("OCI-Subject"));
    }

    [Fact]
    public async Task SubjectThatDoesNotExist_IsAccepted_AndListed()
    {
        var missing = Digest.Compute("never pushed"u8);
        var (digest, put) = await PushArtifactAsync("ref/dangling", missing, "application/vnd.example.sig", 2);
        using (put)
        {
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        }

        var (manifests, response) = await GetReferrersAsync($"/v2/ref/dangling/referrers/{missing.Value}");
        using (response)
        {
            Assert.Equal(digest.Value, Assert.Single(manifests).GetProperty("digest").GetString());
        }
    }

    [Fact]
    public async Task NoReferrers_UnknownRepositoryToo_IsAnEmptyIndex_NeverA404()
    {
        var subject = Digest.Compute("nothing refers to me"u8);
        foreach (var path in new[] { $"/v2/ref/basic/referrers/{subject.Value}", $"/v2/ref/no-such-repo/referrers/{subject.Value}" })
        {
            var (manifests, response) = await GetReferrersAsync(path);
            using (response)
            {
                Assert.Empty(manifests);
            }
        }
    }

    [Theory]
    [InlineData("sha256:zz")]
    [InlineData("md5:d41d8cd98f00b204e9800998ecf8427e")]
    [InlineData("latest")]
    public async Task InvalidDigest_Is400DigestInvalid(string reference)
    {
        using var response = await Client.GetAsync($"/v2/ref/basic/referrers/{reference}");
        await OriginServer.AssertErrorAsync(response, HttpStatusCode.BadRequest, "DIGEST_INVALID");
    }

    [Fact]
    public async Task ArtifactTypeFilter_ListsOnlyThatType_AndSaysSo()
    {
        var (subject, _) = await _origin.PushImageAsync("ref/filter", "v1", seed: 5);
        var (sbom, put1) = await PushArtifactAsync("ref/filter", subject, "application/vnd.example.sbom", 10);
        var (_, put2) = await PushArtifactAsync("ref/filter", subject, "application/vnd.example.sig", 11);
        put1.Dispose();
        put2.Dispose();

        var (all, allResponse) = await GetReferrersAsync($"/v2/ref/filter/referrers/{subject.Value}");
        allResponse.Dispose();
        Assert.Equal(2, all.Length);

        var (filtered, response) = await GetReferrersAsync($"/v2/ref/filter/referrers/{subject.Value}?artifactType={Uri.EscapeDataString("application/vnd.example.sbom")}");
        using (response)
        {
            Assert.Equal(sbom.Value, Assert.Single(filtered).GetProperty("digest").GetString());
            Assert.Equal("artifactType", response.Headers.GetValues("OCI-Filters-Applied").Single());
        }
    }

    [Fact]
    public async Task ManyReferrers_PagedWithLink_WalkedToTheEnd_ListsEachOnce()
    {
        var (subject, _) = await _origin.PushImageAsync("ref/paged", "v1", seed: 20);
        var pushed = new HashSet<string>();
        for (var i = 0; i < 7; i++)
        {
            var (digest, put) = await PushArtifactAsync("ref/paged", subject, "application/vnd.example.sig", 100 + i);
            put.Dispose();
            pushed.Add(digest.Value);
        }

        var seen = new List<string>();
        var next = $"/v2/ref/paged/referrers/{subject.Value}?n=3";
        var pages = 0;
        while (next is not null && pages++ < 10)
        {
            var (manifests, response) = await GetReferrersAsync(next);
            using (response)
            {
                Assert.InRange(manifests.Length, 1, 3);
                seen.AddRange(manifests.Select(m => m.GetProperty("digest").GetString()!));
                next = response.Headers.TryGetValues("Link", out var links) ? ParseNext(links.Single()) : null;
            }
        }

        Assert.Equal(3, pages);
        Assert.Equal(pushed.Order(StringComparer.Ordinal), seen);
    }

    [Fact]
    public async Task DeleteReferrer_RemovesItFromTheIndex_DeleteByTagKeepsIt()
    {
        var (subject, _) = await _origin.PushImageAsync("ref/delete", "v1", seed: 30);
        var (kept, put1) = await PushArtifactAsync("ref/delete", subject, "application/vnd.example.sig", 31, reference: "sig");
        var (deleted, put2) = await PushArtifactAsync("ref/delete", subject, "application/vnd.example.sig", 32);
        put1.Dispose();
        put2.Dispose();

        using (var deleteTag = await Client.DeleteAsync("/v2/ref/delete/manifests/sig"))
        {
            Assert.Equal(HttpStatusCode.Accepted, deleteTag.StatusCode);
        }

        using (var delete = await Client.DeleteAsync($"/v2/ref/delete/manifests/{deleted.Value}"))
        {
            Assert.Equal(HttpStatusCode.Accepted, delete.StatusCode);
        }

        var (manifests, response) = await GetReferrersAsync($"/v2/ref/delete/referrers/{subject.Value}");
        using (response)
        {
            Assert.Equal(kept.Value, Assert.Single(manifests).GetProperty("digest").GetString());
        }
    }

    [Fact]
    public async Task Referrers_SurviveARestart()
    {
        var storage = OriginServer.NewStoragePath();
        try
        {
            Digest subject;
            Digest referrer;
            await using (var first = await OriginServer.StartAsync(storagePath: storage))
            {
                (subject, _) = await first.PushImageAsync("ref/restart", "v1", seed: 40);
                var config = await first.PushBlobAsync("ref/restart", "{}"u8.ToArray());
                var body = Encoding.UTF8.GetBytes($$$"""{"schemaVersion":2,"mediaType":"{{{OciManifest}}}","config":{"mediaType":"application/vnd.example.config","digest":"{{{config.Value}}}","size":2},"layers":[],"subject":{"mediaType":"{{{OciManifest}}}","digest":"{{{subject.Value}}}","size":1}}""");
                (referrer, _) = await first.PushManifestAsync("ref/restart", Digest.Compute(body).Value, body);
            }

            await using var second = await OriginServer.StartAsync(storagePath: storage);
            using var response = await second.Client.GetAsync($"/v2/ref/restart/referrers/{subject.Value}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var json = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync());
            var entry = Assert.Single(json.RootElement.GetProperty("manifests").EnumerateArray());
            Assert.Equal(referrer.Value, entry.GetProperty("digest").GetString());
            Assert.Equal("application/vnd.example.config", entry.GetProperty("artifactType").GetString());
        }
        finally
        {
            Directory.Delete(storage, recursive: true);
        }
    }

    [Fact]
    public async Task ReferrersWithBigAnnotations_EachPageStaysUnderTheManifestLimit_AllStillListed()
    {
        const int limit = 2048;
        await using var origin = await OriginServer.StartAsync([$"--Origin:MaxManifestBytes={limit}"]);
        var subject = Digest.Compute("big annotations"u8);
        var config = await origin.PushBlobAsync("ref/big", "{}"u8.ToArray());
        var pushed = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            var body = Encoding.UTF8.GetBytes($$$"""{"schemaVersion":2,"mediaType":"{{{OciManifest}}}","config":{"mediaType":"{{{EmptyConfig}}}","digest":"{{{config.Value}}}","size":2},"layers":[],"subject":{"mediaType":"{{{OciManifest}}}","digest":"{{{subject.Value}}}","size":1},"annotations":{"i":"{{{i}}}","pad":"{{{new string('p', 700)}}}"}}""");
            var (digest, _) = await origin.PushManifestAsync("ref/big", Digest.Compute(body).Value, body);
            pushed.Add(digest.Value);
        }

        var seen = new List<string>();
        string? next = $"/v2/ref/big/referrers/{subject.Value}";
        var pages = 0;
        while (next is not null)
        {
            Assert.True(++pages <= 10, "the referrers never ended");
            using var response = await origin.Client.GetAsync(next);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var body = await response.Content.ReadAsByteArrayAsync();
            Assert.True(body.Length <= limit + 100, $"a page of {body.Length} bytes (limit {limit} plus the envelope)");
            using var json = JsonDocument.Parse(body);
            seen.AddRange(json.RootElement.GetProperty("manifests").EnumerateArray().Select(e => e.GetProperty("digest").GetString()!));
            next = response.Headers.TryGetValues("Link", out var links) ? ParseNext(links.Single()) : null;
        }

        Assert.True(pages >= 3, $"5 descriptors of ~800 bytes under {limit} took {pages} pages");
        Assert.Equal(pushed.Order(StringComparer.Ordinal), seen);
    }

    /// <summary>The target of <c>Link: &lt;target&gt;; rel="next"</c>.</summary>
    internal static string ParseNext(string link)
    {
        Assert.EndsWith("; rel=\"next\"", link, StringComparison.Ordinal);
        var open = link.IndexOf('<', StringComparison.Ordinal);
        var close = link.IndexOf('>', StringComparison.Ordinal);
        Assert.True(open == 0 && close > open, link);
        return link[(open + 1)..close];
    }
}
