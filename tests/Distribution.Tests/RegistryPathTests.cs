using P2PRegistry.Distribution;

namespace P2PRegistry.Distribution.Tests;

public sealed class RegistryPathTests
{
    [Theory]
    [InlineData("/v2")]
    [InlineData("/v2/")]
    [InlineData("/v2/?x=1")]
    public void TryParse_Base_IsBaseRoute(string raw)
    {
        Assert.Equal(RegistryPathStatus.Ok, RegistryPath.TryParse(raw, out var path));
        Assert.Equal(RegistryRoute.Base, path.Route);
    }

    [Theory]
    [InlineData("/v2/test/img/manifests/v1", "Manifest", "test/img", "v1")]
    [InlineData("/v2/a/manifests/sha256:abc?ns=docker.io", "Manifest", "a", "sha256:abc")]
    [InlineData("/v2/a/b/c/blobs/sha256:abc", "Blob", "a/b/c", "sha256:abc")]
    [InlineData("/v2/a/blobs/sha256%3Aabc", "Blob", "a", "sha256:abc")]
    [InlineData("/v2/library/busybox/tags/list?n=2", "TagsList", "library/busybox", "")]
    [InlineData("/v2/a/b/blobs/uploads/", "UploadStart", "a/b", "")]
    [InlineData("/v2/a/b/blobs/uploads", "UploadStart", "a/b", "")]
    [InlineData("/v2/a/b/blobs/uploads/?mount=sha256:x&from=c", "UploadStart", "a/b", "")]
    [InlineData("/v2/a/b/blobs/uploads/1234-abcd", "Upload", "a/b", "1234-abcd")]
    [InlineData("/v2/a/b/blobs/uploads/1234?digest=sha256:x", "Upload", "a/b", "1234")]
    // Parsed from the right: route words inside a name are just name components.
    [InlineData("/v2/manifests/blobs/tags/manifests/v1", "Manifest", "manifests/blobs/tags", "v1")]
    [InlineData("/v2/blobs/uploads/blobs/sha256:abc", "Blob", "blobs/uploads", "sha256:abc")]
    [InlineData("/v2/a/b/referrers/sha256:abc?artifactType=x%2Fy", "Referrers", "a/b", "sha256:abc")]
    [InlineData("/v2/referrers/referrers/sha256%3Aabc", "Referrers", "referrers", "sha256:abc")]
    [InlineData("/v2/a/referrers/manifests/v1", "Manifest", "a/referrers", "v1")]
    [InlineData("/v2/_catalog", "Catalog", "", "")]
    [InlineData("/v2/_catalog?n=2&last=a%2Fb", "Catalog", "", "")]
    public void TryParse_Routes_ParsesNameAndReferenceFromTheRight(string raw, string route, string name, string reference)
    {
        Assert.Equal(RegistryPathStatus.Ok, RegistryPath.TryParse(raw, out var path));
        Assert.Equal(route, path.Route.ToString());
        Assert.Equal(name, path.Name);
        Assert.Equal(reference, path.Reference);
    }

    [Theory]
    [InlineData("/v2/Test/img/manifests/v1")]
    [InlineData("/v2/a/../b/manifests/v1")]
    [InlineData("/v2/a/%2e%2e/b/manifests/v1")]
    [InlineData("/v2/%2e%2e/blobs/sha256:abc")]
    [InlineData("/v2/a%2Fb/manifests/v1")]
    [InlineData("/v2/a//b/manifests/v1")]
    [InlineData("/v2//manifests/v1")]
    [InlineData("/v2/a/./b/blobs/uploads/")]
    [InlineData("/v2/-a/tags/list")]
    [InlineData("/v2/a-/tags/list")]
    [InlineData("/v2/_catalog/referrers/sha256:abc")]
    public void TryParse_BadName_IsNameInvalid(string raw)
    {
        Assert.Equal(RegistryPathStatus.NameInvalid, RegistryPath.TryParse(raw, out _));
    }

    [Fact]
    public void TryParse_NameOver255_IsNameInvalid()
    {
        var name = string.Join('/', Enumerable.Repeat(new string('a', 50), 6)); // 305 characters
        Assert.Equal(RegistryPathStatus.NameInvalid, RegistryPath.TryParse($"/v2/{name}/manifests/v1", out _));
        var ok = name[..255].TrimEnd('/');
        Assert.Equal(RegistryPathStatus.Ok, RegistryPath.TryParse($"/v2/{ok}/manifests/v1", out _));
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/v1/a/manifests/v1")]
    [InlineData("/v2x/a/manifests/v1")]
    [InlineData("/v2/a")]
    [InlineData("/v2/a/manifests/")]
    [InlineData("/v2/a/blobs/")]
    [InlineData("/v2/manifests/v1")]
    [InlineData("/v2/a/tags/other")]
    [InlineData("/v2/_catalog/")]
    [InlineData("/v2/a/referrers/")]
    [InlineData("/v2/referrers/sha256:abc")]
    public void TryParse_NotARoute_IsNotFound(string raw)
    {
        Assert.Equal(RegistryPathStatus.NotFound, RegistryPath.TryParse(raw, out _));
    }
}
