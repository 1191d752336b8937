using System.Net;
using System.Text;
using System.Text.Json;

namespace P2PRegistry.Integration.Tests.Origin;

/// <summary>
/// OCI distribution behaviour that our origin and docker-registry (the reference) must share: <c>_catalog</c> paging
/// and 404 for manifest references that do not exist. (docker-registry 2.8 has no referrers API: referrers are tested
/// against our origin and agent in <c>Agent/AgentReferrersTests</c>.)
/// </summary>
public abstract class OciDistributionTests<TFixture> : IClassFixture<TFixture>, IDisposable
    where TFixture : class, IRegistryFixture
{
    private const string OciManifest = "application/vnd.oci.image.manifest.v1+json";

    private readonly TFixture _fixture;

    protected OciDistributionTests(TFixture fixture, ITestOutputHelper output)
    {
        _fixture = fixture;
        fixture.Output.Attach(output);
    }

    /// <summary>
    /// Whether every manifest miss carries the OCI error body. docker-registry's router answers a reference outside its
    /// tag grammar (<c>.x</c>, 200 characters, <c>a!b</c>) with a plain-text 404 before any handler runs.
    /// </summary>
    protected abstract bool OciBodyForEveryManifestMiss { get; }

    private IRegistryProcess Registry => _fixture.Registry;

    /// <summary>A one-layer image (config and layer are tiny distinct blobs) pushed as <paramref name="tag"/>.</summary>
    internal static async Task<(string Digest, byte[] Body)> PushTinyImageAsync(RegistryClient client, string repository, string tag, int seed)
    {
        var configBytes = Encoding.UTF8.GetBytes($$"""{"architecture":"amd64","os":"linux","seed":{{seed}}}""");
        var config = await client.UploadBytesAsync(repository, configBytes);
        var layerBytes = Encoding.UTF8.GetBytes($"layer {seed} of {repository}");
        var layer = await client.UploadBytesAsync(repository, layerBytes);
        var configSize = configBytes.Length;
        var body = Encoding.UTF8.GetBytes($$$"""{"schemaVersion":2,"mediaType":"{{{OciManifest}}}","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{{{config}}}","size":{{{configSize}}} },"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{{{layer}}}","size":{{{layerBytes.Length}}} }]}""");
        using var put = await client.PutManifestAsync(repository, tag, body, OciManifest);
        Assert.True(put.StatusCode == HttpStatusCode.Created, $"manifest PUT answered {(int)put.StatusCode}: {await put.Content.ReadAsStringAsync()}");
        return ("sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(body)), body);
    }

    internal static string? NextLink(HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues("Link", out var values))
        {
            return null;
        }

        var link = values.Single();
        Assert.EndsWith("rel=\"next\"", link, StringComparison.Ordinal);
        var open = link.IndexOf('<', StringComparison.Ordinal);
        var close = link.IndexOf('>', StringComparison.Ordinal);
        Assert.True(open >= 0 && close > open, link);
        var target = link[(open + 1)..close];

        // A path (ours, docker-registry's) or an absolute http URL, of which the path and query are kept.
        return target.StartsWith("http", StringComparison.Ordinal) ? new Uri(target).PathAndQuery : target;
    }

    [Fact]
    public async Task Catalog_WalkedWithNAndLink_ListsEveryRepositoryOnceInOrder()
    {
        using var client = new RegistryClient(Registry.BaseAddress);
        string[] mine = ["oci-catalog/e", "oci-catalog/a", "oci-catalog/c/nested", "oci-catalog/c", "oci-catalog/b"];
        for (var i = 0; i < mine.Length; i++)
        {
            await PushTinyImageAsync(client, mine[i], "v1", i);
        }

        var seen = new List<string>();
        string? next = "/v2/_catalog?n=2";
        var pages = 0;
        while (next is not null)
        {
            Assert.True(++pages <= 100, "the catalog never ended");
            using var response = await client.Http.GetAsync(next);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var json = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync());
            var page = json.RootElement.GetProperty("repositories").EnumerateArray().Select(e => e.GetString()!).ToArray();
            Assert.InRange(page.Length, 0, 2);
            seen.AddRange(page);
            next = NextLink(response);
            if (next is not null)
            {
                Assert.NotEmpty(page);
            }
        }

        Assert.Equal(seen.Distinct().Count(), seen.Count);
        Assert.Equal(seen.Order(StringComparer.Ordinal), seen);
        Assert.Equal(mine.Order(StringComparer.Ordinal), seen.Where(n => n.StartsWith("oci-catalog/", StringComparison.Ordinal)));
        Assert.True(pages >= 3, $"5 repositories in pages of 2 took {pages} pages");
    }

    [Fact]
    public async Task Catalog_NOver1000_Is400PaginationNumberInvalid()
    {
        using var client = new RegistryClient(Registry.BaseAddress);
        using var response = await client.Http.GetAsync("/v2/_catalog?n=1001");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("PAGINATION_NUMBER_INVALID", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("v-does-not-exist", true)]
    [InlineData("UPPER", true)]
    [InlineData(".x", false)]
    [InlineData("-x", false)]
    [InlineData("a%21b", false)]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false)]
    public async Task GetAndHead_ManifestThatDoesNotExist_Is404(string reference, bool validTag)
    {
        using var client = new RegistryClient(Registry.BaseAddress);
        await PushTinyImageAsync(client, "oci-odd/app", "v1", 100);
        foreach (var method in new[] { HttpMethod.Get, HttpMethod.Head })
        {
            using var response = await client.Http.SendAsync(new HttpRequestMessage(method, $"/v2/oci-odd/app/manifests/{reference}"));
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            if (method == HttpMethod.Get && (validTag || OciBodyForEveryManifestMiss))
            {
                Assert.Contains("MANIFEST_UNKNOWN", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }
        }
    }

    public void Dispose() => _fixture.Output.Attach(null);
}

[Trait("Category", TestCategories.Integration)]
[Trait("Registry", "origin")]
public sealed class OriginOciDistributionTests(OriginFixture fixture, ITestOutputHelper output)
    : OciDistributionTests<OriginFixture>(fixture, output)
{
    protected override bool OciBodyForEveryManifestMiss => true;
}

[Trait("Category", TestCategories.Integration)]
[Trait("Registry", "docker-registry")]
public sealed class DockerRegistryOciDistributionTests(DockerRegistryFixture fixture, ITestOutputHelper output)
    : OciDistributionTests<DockerRegistryFixture>(fixture, output)
{
    protected override bool OciBodyForEveryManifestMiss => false;
}
