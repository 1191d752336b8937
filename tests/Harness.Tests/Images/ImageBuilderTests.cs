using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using P2PRegistry.Harness.Images;

namespace P2PRegistry.Harness.Tests.Images;

public sealed class ImageBuilderTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("p2ph-image-test-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Build_ThreeLayers_ManifestParsesBackWithEveryDigestAndSize()
    {
        long[] sizes = [100_000, 1 << 20, 3 * 512];
        var image = await ImageBuilder.BuildAsync(_directory, sizes, seed: 7, CancellationToken.None);

        var manifestBytes = await File.ReadAllBytesAsync(image.ManifestPath);
        Assert.Equal(image.ManifestDigest, "sha256:" + Convert.ToHexStringLower(SHA256.HashData(manifestBytes)));
        using var manifest = JsonDocument.Parse(manifestBytes);
        var root = manifest.RootElement;
        Assert.Equal(2, root.GetProperty("schemaVersion").GetInt32());
        Assert.Equal("application/vnd.oci.image.manifest.v1+json", root.GetProperty("mediaType").GetString());

        var config = root.GetProperty("config");
        Assert.Equal("application/vnd.oci.image.config.v1+json", config.GetProperty("mediaType").GetString());
        AssertDescribes(config, image.Config.Path);

        var layers = root.GetProperty("layers").EnumerateArray().ToList();
        Assert.Equal(3, layers.Count);
        for (var i = 0; i < layers.Count; i++)
        {
            Assert.Equal("application/vnd.oci.image.layer.v1.tar+gzip", layers[i].GetProperty("mediaType").GetString());
            AssertDescribes(layers[i], image.Layers[i].Blob.Path);
        }

        Assert.Equal(image.Layers.Sum(l => l.Blob.Length) + image.Config.Length + manifestBytes.Length, image.TotalBytes);
    }

    [Fact]
    public async Task Build_Layers_AreGzipTarsOfOneRandomFileOfTheAskedSize_WhoseDigestsAreTheConfigsDiffIds()
    {
        long[] sizes = [700_001, 4096];
        var image = await ImageBuilder.BuildAsync(_directory, sizes, seed: 1, CancellationToken.None);

        using var config = JsonDocument.Parse(await File.ReadAllBytesAsync(image.Config.Path));
        Assert.Equal("linux", config.RootElement.GetProperty("os").GetString());
        Assert.Equal(ImageBuilder.GoArchitecture, config.RootElement.GetProperty("architecture").GetString());
        Assert.Equal("layers", config.RootElement.GetProperty("rootfs").GetProperty("type").GetString());
        var diffIds = config.RootElement.GetProperty("rootfs").GetProperty("diff_ids").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Equal(2, diffIds.Count);

        for (var i = 0; i < sizes.Length; i++)
        {
            var tar = new MemoryStream();
            await using (var gzip = new GZipStream(File.OpenRead(image.Layers[i].Blob.Path), CompressionMode.Decompress))
            {
                await gzip.CopyToAsync(tar);
            }

            Assert.Equal(diffIds[i], "sha256:" + Convert.ToHexStringLower(SHA256.HashData(tar.ToArray())));
            Assert.Equal(image.Layers[i].DiffId, diffIds[i]);
            Assert.Equal(tar.Length, image.Layers[i].TarBytes);
            Assert.Equal(0, tar.Length % 512);

            tar.Position = 0;
            using var reader = new TarReader(tar);
            var entry = reader.GetNextEntry(copyData: true);
            Assert.NotNull(entry);
            Assert.Equal(TarEntryType.RegularFile, entry.EntryType);
            Assert.Equal($"layer-{i + 1:00}.bin", entry.Name);
            Assert.Equal(sizes[i], entry.Length);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead, entry.Mode);
            Assert.Null(reader.GetNextEntry());
        }

        // Random content does not compress: the gzip layer is at least as large as its file.
        Assert.All(image.Layers, l => Assert.True(l.Blob.Length >= l.ContentBytes, $"{l.Blob.Length} < {l.ContentBytes}"));
    }

    [Fact]
    public async Task Build_SameSeed_SameImage_OtherSeed_OtherLayers()
    {
        long[] sizes = [10_000, 20_000];
        var a = await ImageBuilder.BuildAsync(Path.Combine(_directory, "a"), sizes, seed: 3, CancellationToken.None);
        var b = await ImageBuilder.BuildAsync(Path.Combine(_directory, "b"), sizes, seed: 3, CancellationToken.None);
        var c = await ImageBuilder.BuildAsync(Path.Combine(_directory, "c"), sizes, seed: 4, CancellationToken.None);

        Assert.Equal(a.ManifestDigest, b.ManifestDigest);
        Assert.NotEqual(a.ManifestDigest, c.ManifestDigest);
        Assert.Empty(a.Layers.Select(l => l.Blob.Digest).Intersect(c.Layers.Select(l => l.Blob.Digest)));
        // Two layers of one image never share content (the generator runs on), so they are two blobs.
        Assert.NotEqual(a.Layers[0].Blob.Digest, a.Layers[1].Blob.Digest);
    }

    [Fact]
    public async Task ChainId_OfThreeLayers_FollowsTheOciDefinition()
    {
        var image = await ImageBuilder.BuildAsync(_directory, [1000, 2000, 3000], seed: 5, CancellationToken.None);
        static string Sha(string text) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.ASCII.GetBytes(text)));
        var d = image.Layers.Select(l => l.DiffId).ToList();
        Assert.Equal(Sha(Sha(d[0] + " " + d[1]) + " " + d[2]), image.ChainId);

        var one = await ImageBuilder.BuildAsync(Path.Combine(_directory, "one"), [1000], seed: 5, CancellationToken.None);
        Assert.Equal(one.Layers[0].DiffId, one.ChainId);
    }

    [Fact]
    public async Task Build_NoLayers_Throws() =>
        await Assert.ThrowsAsync<ArgumentException>(() => ImageBuilder.BuildAsync(_directory, [], 1, CancellationToken.None));

    [Fact]
    public void UstarHeader_ChecksumAndFields_AsTarReadsThem()
    {
        var header = UstarHeader.RegularFile("x.bin", 12345, DateTimeOffset.FromUnixTimeSeconds(1_700_000_000));
        var archive = new MemoryStream();
        archive.Write(header);
        archive.Write(new byte[12345 + UstarHeader.Padding(12345) + 1024]);
        archive.Position = 0;
        var entry = new TarReader(archive).GetNextEntry();
        Assert.NotNull(entry);
        Assert.Equal("x.bin", entry.Name);
        Assert.Equal(12345, entry.Length);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000), entry.ModificationTime);
        Assert.Equal(0, UstarHeader.Padding(1024));
        Assert.Equal(511, UstarHeader.Padding(1));
        Assert.Throws<ArgumentException>(() => UstarHeader.RegularFile(new string('a', 101), 1, DateTimeOffset.UnixEpoch));
    }

    [Fact]
    public void LayerSizes_Geometric_FromMinToMax_Growing()
    {
        var sizes = LayerSizes.Geometric(8, 5, 200);
        Assert.Equal(8, sizes.Count);
        Assert.Equal(5L << 20, sizes[0]);
        Assert.Equal(200L << 20, sizes[^1]);
        Assert.True(sizes.Zip(sizes.Skip(1)).All(p => p.First < p.Second));
        // Each step multiplies by the same ratio (200/5)^(1/7) ≈ 1.694, to within the KiB rounding.
        Assert.All(sizes.Zip(sizes.Skip(1)), p => Assert.InRange(p.Second / (double)p.First, 1.69, 1.70));
        Assert.Equal([64L << 20], LayerSizes.Geometric(1, 1, 64));
        Assert.Equal([2L << 20, 2L << 20], LayerSizes.Geometric(2, 2, 2));
    }

    private static void AssertDescribes(JsonElement descriptor, string path)
    {
        var bytes = File.ReadAllBytes(path);
        Assert.Equal("sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes)), descriptor.GetProperty("digest").GetString());
        Assert.Equal(bytes.Length, descriptor.GetProperty("size").GetInt64());
    }
}
