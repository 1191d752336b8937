namespace P2PRegistry.Integration.Tests.Origin;

/// <summary>
/// skopeo pushes real images (OCI, Docker schema 2, a multi-platform index) and pulls them back to <c>dir:</c>:
/// the manifest skopeo pulls is the one it pushed (same digest) and every blob file hashes to its name.
/// </summary>
public abstract class SkopeoRoundTripTests<TFixture> : IClassFixture<TFixture>, IDisposable
    where TFixture : class, IRegistryFixture
{
    private readonly TFixture _fixture;
    private readonly TempDirectory _temp = new("pull");

    protected SkopeoRoundTripTests(TFixture fixture, ITestOutputHelper output)
    {
        _fixture = fixture;
        fixture.Output.Attach(output);
    }

    private IRegistryProcess Registry => _fixture.Registry;

    [Fact]
    public async Task PushOci_PullByTagToDir_ManifestAndBlobsIdentical()
    {
        var images = await TestImages.GetAsync();
        var image = images.Big;
        var destination = Skopeo.Docker(Registry.Host, "roundtrip/oci", "v1");

        var pushed = await Skopeo.PushAsync(image.Reference, destination, new SkopeoCopyOptions { PreserveDigests = true });
        Assert.Equal(image.ManifestDigest, pushed);

        var dir = await PullToDirAsync(destination, "oci");
        Assert.Equal(image.ManifestDigest, dir.ManifestDigest());
        Assert.Empty(dir.Problems());
        Assert.Equal(image.BlobDigests.Order(), dir.ContentFiles().Keys.Order());
        Assert.Equal(image.Layers.Select(l => l.Size), DirImageLayout.Descriptors(dir.Manifest()).Skip(1).Select(d => d.Size));
    }

    [Fact]
    public async Task PushDockerSchema2_PullByDigestToDir_ManifestAndBlobsIdentical()
    {
        var images = await TestImages.GetAsync();
        var image = images.Big;
        var destination = Skopeo.Docker(Registry.Host, "roundtrip/v2s2", "v1");

        var pushed = await Skopeo.PushAsync(image.Reference, destination, new SkopeoCopyOptions { Format = "v2s2" });
        Assert.NotEqual(image.ManifestDigest, pushed); // converted, so it is another manifest

        var dir = await PullToDirAsync(Skopeo.DockerByDigest(Registry.Host, "roundtrip/v2s2", pushed), "v2s2");
        Assert.Equal(pushed, dir.ManifestDigest());
        Assert.Empty(dir.Problems());
        var manifest = dir.Manifest();
        Assert.Equal("application/vnd.docker.distribution.manifest.v2+json", manifest["mediaType"]?.GetValue<string>());
        // The conversion changes media types only: the same config and the same gzip layers are stored.
        Assert.Equal(image.BlobDigests, DirImageLayout.Descriptors(manifest).Select(d => d.Digest));

        // And the tag resolves to the same manifest.
        var raw = await Skopeo.InspectRawAsync(Skopeo.Docker(Registry.Host, "roundtrip/v2s2", "v1"));
        Assert.Equal(File.ReadAllText(dir.ManifestPath), raw.TrimEnd('\n'));
    }

    [Fact]
    public async Task PushMultiPlatformIndex_PullAllToDir_IndexAndEveryPlatformIdentical()
    {
        var images = await TestImages.GetAsync();
        var index = images.MultiPlatform;
        var destination = Skopeo.Docker(Registry.Host, "roundtrip/multi", "v1");

        var pushed = await Skopeo.PushAsync(index.Reference, destination, new SkopeoCopyOptions { All = true, PreserveDigests = true });
        Assert.Equal(index.Digest, pushed);

        var dir = await PullToDirAsync(destination, "multi", all: true);
        Assert.Equal(index.Digest, dir.ManifestDigest());
        Assert.Empty(dir.Problems());
        var expected = index.Images.SelectMany(i => i.BlobDigests.Append(i.ManifestDigest)).Distinct().Order();
        Assert.Equal(expected, dir.ContentFiles().Keys.Order());
    }

    [Fact]
    public async Task PushMultiPlatformAsDockerManifestList_PullAllToDir_ListAndEveryPlatformIntact()
    {
        var images = await TestImages.GetAsync();
        var index = images.MultiPlatform;
        var destination = Skopeo.Docker(Registry.Host, "roundtrip/list", "v1");

        var pushed = await Skopeo.PushAsync(index.Reference, destination, new SkopeoCopyOptions { All = true, Format = "v2s2" });

        var dir = await PullToDirAsync(destination, "list", all: true);
        Assert.Equal(pushed, dir.ManifestDigest());
        Assert.Empty(dir.Problems());
        var list = dir.Manifest();
        Assert.Equal("application/vnd.docker.distribution.manifest.list.v2+json", list["mediaType"]?.GetValue<string>());
        var platforms = DirImageLayout.Descriptors(list);
        Assert.Equal(2, platforms.Count);
        Assert.All(platforms, p => Assert.Equal("application/vnd.docker.distribution.manifest.v2+json", p.MediaType));
        var expectedBlobs = index.Images.SelectMany(i => i.BlobDigests).Distinct().Order();
        Assert.Equal(expectedBlobs, dir.ContentFiles().Keys.Where(k => platforms.All(p => p.Digest != k)).Order());
    }

    [Fact]
    public async Task PushSameImageConcurrently_TwoSkopeos_BothSucceedAndPullIsIntact()
    {
        var images = await TestImages.GetAsync();
        var image = images.Big;
        var destination = Skopeo.Docker(Registry.Host, "roundtrip/concurrent", "v1");
        var options = new SkopeoCopyOptions { PreserveDigests = true };

        // Both upload the same 64 MiB blob at the same time, so both commit the same digest.
        var pushes = await Task.WhenAll(
            Skopeo.PushAsync(image.Reference, destination, options),
            Skopeo.PushAsync(image.Reference, Skopeo.Docker(Registry.Host, "roundtrip/concurrent", "v2"), options));
        Assert.All(pushes, digest => Assert.Equal(image.ManifestDigest, digest));

        var dir = await PullToDirAsync(destination, "concurrent");
        Assert.Equal(image.ManifestDigest, dir.ManifestDigest());
        Assert.Empty(dir.Problems());
        Assert.Equal(image.BlobDigests.Order(), dir.ContentFiles().Keys.Order());
        Assert.Equal(["v1", "v2"], (await Skopeo.ListTagsAsync($"docker://{Registry.Host}/roundtrip/concurrent")).Order());
    }

    [Fact]
    public async Task SkopeoDelete_PushedManifest_IsGoneByDigestAndItsBlobsStay()
    {
        var image = (await TestImages.GetAsync()).SmallAmd64;
        var destination = Skopeo.Docker(Registry.Host, "roundtrip/deleted", "v1");
        await Skopeo.PushAsync(image.Reference, destination, new SkopeoCopyOptions { PreserveDigests = true });

        var deleted = await Skopeo.DeleteAsync(destination);
        Assert.True(deleted.Succeeded, deleted.Describe());

        using var client = new RegistryClient(Registry.BaseAddress);
        using (var manifest = await client.HeadManifestAsync("roundtrip/deleted", image.ManifestDigest))
        {
            Assert.Equal(System.Net.HttpStatusCode.NotFound, manifest.StatusCode);
        }

        // Deleting a manifest is not garbage collection: its layers are still served.
        var layer = image.Layers[^1];
        Assert.Equal((layer.Digest, layer.Size), await client.GetBlobDigestAsync("roundtrip/deleted", layer.Digest));
    }

    [Fact]
    public async Task PushOverAnExistingTag_PullGetsTheNewImage()
    {
        var index = (await TestImages.GetAsync()).MultiPlatform;
        var destination = Skopeo.Docker(Registry.Host, "roundtrip/retag", "latest");

        await Skopeo.PushAsync(index.Images[0].Reference, destination, new SkopeoCopyOptions { PreserveDigests = true });
        await Skopeo.PushAsync(index.Images[1].Reference, destination, new SkopeoCopyOptions { PreserveDigests = true });

        var dir = await PullToDirAsync(destination, "retag");
        Assert.Equal(index.Images[1].ManifestDigest, dir.ManifestDigest());
        Assert.Empty(dir.Problems());
    }

    [Fact]
    public async Task PullUnknownTag_SkopeoFailsWithManifestUnknown()
    {
        var images = await TestImages.GetAsync();
        await Skopeo.PushAsync(images.SmallAmd64.Reference, Skopeo.Docker(Registry.Host, "roundtrip/known", "v1"));

        var result = await Skopeo.CopyAsync(Skopeo.Docker(Registry.Host, "roundtrip/known", "no-such-tag"), Skopeo.Dir(_temp.Combine("unknown")));

        Assert.False(result.Succeeded);
        Assert.Contains("manifest unknown", result.StandardError, StringComparison.OrdinalIgnoreCase);
    }

    public void Dispose()
    {
        _fixture.Output.Attach(null);
        _temp.Dispose();
    }

    private async Task<DirImageLayout> PullToDirAsync(string source, string name, bool all = false)
    {
        var path = _temp.Combine(name);
        await Skopeo.CopyOrThrowAsync(source, Skopeo.Dir(path), new SkopeoCopyOptions { All = all });
        return DirImageLayout.Open(path);
    }
}

[Trait("Category", TestCategories.Integration)]
[Trait("Registry", "origin")]
public sealed class OriginSkopeoRoundTripTests(OriginFixture fixture, ITestOutputHelper output)
    : SkopeoRoundTripTests<OriginFixture>(fixture, output);

[Trait("Category", TestCategories.Integration)]
[Trait("Registry", "docker-registry")]
public sealed class DockerRegistrySkopeoRoundTripTests(DockerRegistryFixture fixture, ITestOutputHelper output)
    : SkopeoRoundTripTests<DockerRegistryFixture>(fixture, output);
