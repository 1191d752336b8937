using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace P2PRegistry.Origin.Tests.Registry;

public sealed class CatalogApiTests
{
    private static async Task<(string[] Repositories, string? Next)> GetAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync());
        var names = json.RootElement.GetProperty("repositories").EnumerateArray().Select(e => e.GetString()!).ToArray();
        return (names, response.Headers.TryGetValues("Link", out var links) ? ReferrersApiTests.ParseNext(links.Single()) : null);
    }

    [Fact]
    public async Task Catalog_PagedWithNAndLast_WalkedToTheEnd_ListsEveryRepositoryOnceInOrder()
    {
        await using var origin = await OriginServer.StartAsync();
        string[] names = ["zeta", "alpha/one", "alpha/one/nested", "alpha/two", "beta", "m.n/o_p"];
        foreach (var name in names)
        {
            await origin.PushImageAsync(name, "v1");
        }

        var (empty, _) = await GetAsync(origin.Client, "/v2/_catalog?n=0");
        Assert.Empty(empty);

        var seen = new List<string>();
        string? next = "/v2/_catalog?n=4";
        var pages = 0;
        while (next is not null && pages++ < 10)
        {
            var (page, link) = await GetAsync(origin.Client, next);
            Assert.InRange(page.Length, 1, 4);
            seen.AddRange(page);
            next = link;
        }

        Assert.Equal(2, pages);
        Assert.Equal(names.Order(StringComparer.Ordinal), seen);

        var (all, last) = await GetAsync(origin.Client, "/v2/_catalog");
        Assert.Equal(seen, all);
        Assert.Null(last);

        var (after, _) = await GetAsync(origin.Client, "/v2/_catalog?last=alpha%2Ftwo");
        Assert.Equal(["beta", "m.n/o_p", "zeta"], after);
    }

    [Fact]
    public async Task Catalog_IsWalkedAtMostOncePerRefresh_ButAPushedRepositoryIsListedAtOnce()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var origin = await OriginServer.StartAsync(configureServices: s => s.AddSingleton<TimeProvider>(time));
        await origin.PushImageAsync("first", "v1");
        Assert.Equal(["first"], (await GetAsync(origin.Client, "/v2/_catalog")).Repositories);

        // A repository appearing on disk behind the registry's back: the listing in use does not walk the tree for it.
        Directory.CreateDirectory(Path.Combine(origin.StoragePath, "repositories", "behind", "_manifests"));
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(["first"], (await GetAsync(origin.Client, "/v2/_catalog")).Repositories);
        }

        // A push creating a repository makes the next listing walk again (and so find both).
        await origin.PushImageAsync("second", "v1");
        Assert.Equal(["behind", "first", "second"], (await GetAsync(origin.Client, "/v2/_catalog")).Repositories);

        // Without a push, the refresh period does.
        Directory.CreateDirectory(Path.Combine(origin.StoragePath, "repositories", "third", "_layers"));
        Assert.Equal(["behind", "first", "second"], (await GetAsync(origin.Client, "/v2/_catalog")).Repositories);
        time.Advance(P2PRegistry.Origin.Storage.RepositoryStore.CatalogRefresh);
        Assert.Equal(["behind", "first", "second", "third"], (await GetAsync(origin.Client, "/v2/_catalog")).Repositories);
    }

    [Theory]
    [InlineData("1001")]
    [InlineData("-1")]
    [InlineData("many")]
    public async Task Catalog_BadOrHugeN_Is400PaginationNumberInvalid(string n)
    {
        await using var origin = await OriginServer.StartAsync();
        using var response = await origin.Client.GetAsync($"/v2/_catalog?n={n}");
        await OriginServer.AssertErrorAsync(response, HttpStatusCode.BadRequest, "PAGINATION_NUMBER_INVALID");
    }

    [Fact]
    public async Task Catalog_BlobOnlyRepositoryListed_UploadOnlyNot()
    {
        await using var origin = await OriginServer.StartAsync();
        await origin.PushBlobAsync("blobs/only", [1, 2, 3]);
        await origin.StartUploadAsync("upload/only");
        var (names, _) = await GetAsync(origin.Client, "/v2/_catalog");
        Assert.Equal(["blobs/only"], names);
    }
}
