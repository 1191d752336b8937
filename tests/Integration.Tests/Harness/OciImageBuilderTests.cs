using System.Security.Cryptography;
using System.Text.Json.Nodes;
using P2PRegistry.Integration.Tests.Origin;

namespace P2PRegistry.Integration.Tests.Harness;

[Trait("Category", TestCategories.Integration)]
public sealed class OciImageBuilderTests
{
    [Fact]
    public async Task BuildAsync_BigImage_TwoLayersTheSecondOver64MiBAndEveryBlobMatchesItsDigest()
    {
        var image = (await TestImages.GetAsync()).Big;

        Assert.Equal(2, image.Layers.Count);
        Assert.True(image.Layers[1].Size >= 64L << 20, $"the random layer is only {image.Layers[1].Size} bytes");
        foreach (var digest in image.BlobDigests.Append(image.ManifestDigest))
        {
            var file = OciImageBuilder.BlobPath(image.LayoutPath, digest);
            Assert.Equal(digest, DirImageLayout.FileDigest(file));
        }

        var manifest = JsonNode.Parse(File.ReadAllBytes(OciImageBuilder.BlobPath(image.LayoutPath, image.ManifestDigest)))!;
        Assert.Equal(image.Layers.Select(l => l.Size), manifest["layers"]!.AsArray().Select(l => l!["size"]!.GetValue<long>()));
    }

    [Fact]
    public void RandomContent_SameSeed_SameBytes_OtherSeed_OtherBytes()
    {
        static string Hash(int seed) =>
            Convert.ToHexStringLower(SHA256.HashData(OciImageBuilder.RandomContent(2, seed).SelectMany(b => b).ToArray()));

        Assert.Equal(Hash(42), Hash(42));
        Assert.NotEqual(Hash(42), Hash(43));
    }

    [Fact]
    public async Task BuildIndexAsync_TwoPlatforms_IndexBlobListsBothWithPlatforms()
    {
        var index = (await TestImages.GetAsync()).MultiPlatform;

        var bytes = File.ReadAllBytes(OciImageBuilder.BlobPath(index.LayoutPath, index.Digest));
        Assert.Equal(index.Digest, "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes)));
        var manifests = JsonNode.Parse(bytes)!["manifests"]!.AsArray();
        Assert.Equal(["amd64", "arm64"], manifests.Select(m => m!["platform"]!["architecture"]!.GetValue<string>()));
        Assert.Equal(index.Images.Select(i => i.ManifestDigest), manifests.Select(m => m!["digest"]!.GetValue<string>()));
        Assert.NotEqual(index.Images[0].RandomFileSha256, index.Images[1].RandomFileSha256);

        var layoutIndex = JsonNode.Parse(File.ReadAllText(Path.Combine(index.LayoutPath, "index.json")))!;
        Assert.Contains(
            layoutIndex["manifests"]!.AsArray(),
            m => m!["digest"]!.GetValue<string>() == index.Digest && m["annotations"]!["org.opencontainers.image.ref.name"]!.GetValue<string>() == "multi");
    }
}
