using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using P2PRegistry.Core.Content;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Testing;

namespace P2PRegistry.Origin.Tests.P2P;

public sealed class MetaInfoEndpointTests
{
    private const string Rehash = "p2pregistry.origin.metainfo.rehash";

    private static async Task AssertMetaInfoAsync(OriginServer origin, Digest digest, Func<Stream> content, long length)
    {
        var expected = await MetaInfo.ComputeAsync(digest, content(), length);
        using var response = await origin.Client.GetAsync($"/p2p/v1/metainfo/{digest.Value}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/x-bittorrent-info", response.Content.Headers.ContentType?.ToString());
        var infoHash = response.Headers.GetValues("X-P2P-Info-Hash").Single();
        Assert.Equal(expected.InfoHash.ToHex(), infoHash);
        Assert.Matches("^[0-9a-f]{40}$", infoHash);
        var body = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(expected.Encoded.ToArray(), body);
        Assert.Equal(InfoHash.Compute(body), expected.InfoHash);
    }

    [Fact]
    public async Task StreamedUpload_MetaInfoMatchesComputeAsync_NoRehash()
    {
        await using var origin = await OriginServer.StartAsync();
        using var rehash = new CounterProbe(origin, Rehash);
        var content = OriginServer.RandomBytes(3 * 1024 * 1024 + 17, 21);
        var digest = Digest.Compute(content);
        var location = await origin.StartUploadAsync("p2p/streamed");
        using (var patch = await origin.Client.PatchAsync(location, OriginServer.Bytes(content)))
        {
            Assert.Equal(HttpStatusCode.Accepted, patch.StatusCode);
        }

        using (var put = await origin.Client.PutAsync($"{location}?digest={digest.Value}", null))
        {
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        }

        Assert.True(File.Exists(Path.Combine(Path.GetDirectoryName(origin.BlobDataPath(digest))!, "metainfo")));
        await AssertMetaInfoAsync(origin, digest, () => new MemoryStream(content), content.Length);
        Assert.Equal(0, rehash.Total);
    }

    [Fact]
    public async Task MissingMetaInfoFile_ComputedOnDemandOnce()
    {
        await using var origin = await OriginServer.StartAsync();
        using var rehash = new CounterProbe(origin, Rehash);
        var content = OriginServer.RandomBytes(700_000, 22);
        var digest = await origin.PushBlobAsync("p2p/on-demand", content);
        var metaInfoFile = Path.Combine(Path.GetDirectoryName(origin.BlobDataPath(digest))!, "metainfo");
        File.Delete(metaInfoFile);

        await AssertMetaInfoAsync(origin, digest, () => new MemoryStream(content), content.Length);
        Assert.True(File.Exists(metaInfoFile));
        await AssertMetaInfoAsync(origin, digest, () => new MemoryStream(content), content.Length);
        Assert.Equal(1, rehash.Total);
    }

    [Fact]
    public async Task UnknownBlob_404BlobUnknown_MalformedDigest_400()
    {
        await using var origin = await OriginServer.StartAsync();
        using var unknown = await origin.Client.GetAsync($"/p2p/v1/metainfo/{Digest.Compute([42]).Value}");
        await OriginServer.AssertErrorAsync(unknown, HttpStatusCode.NotFound, "BLOB_UNKNOWN");
        using var malformed = await origin.Client.GetAsync("/p2p/v1/metainfo/sha256:123");
        await OriginServer.AssertErrorAsync(malformed, HttpStatusCode.BadRequest, "DIGEST_INVALID");
    }

    [Fact]
    [Trait("Category", TestCategories.Slow)]
    public async Task PieceLengthChangesAfterFirstChunk_ReReadsOnce_MetaInfoMatches()
    {
        // Past 256 MiB the piece length grows, so an upload that began with a small chunk must be re-read.
        const long Length = 257L * 1024 * 1024 + 5;
        const int FirstChunk = 1024 * 1024;
        const ulong Seed = 77;
        Assert.NotEqual(PieceLength.For(FirstChunk), PieceLength.For(Length));

        Digest digest;
        using (var sha = SHA256.Create())
        {
            digest = Digest.FromSha256(await sha.ComputeHashAsync(new GeneratedStream(Length, Seed)));
        }

        await using var origin = await OriginServer.StartAsync();
        using var rehash = new CounterProbe(origin, Rehash);
        var location = await origin.StartUploadAsync("p2p/rehash");
        var source = new GeneratedStream(Length, Seed);
        var first = new byte[FirstChunk];
        source.ReadExactly(first);
        using (var chunk = OriginServer.Bytes(first))
        {
            chunk.Headers.TryAddWithoutValidation("Content-Range", $"0-{FirstChunk - 1}");
            using var patch = await origin.Client.PatchAsync(location, chunk);
            Assert.Equal(HttpStatusCode.Accepted, patch.StatusCode);
        }

        using (var rest = new StreamContent(source, 1024 * 1024))
        {
            rest.Headers.ContentLength = Length - FirstChunk;
            rest.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            using var put = await origin.Client.PutAsync($"{location}?digest={digest.Value}", rest);
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        }

        Assert.Equal(1, rehash.Total);
        await AssertMetaInfoAsync(origin, digest, () => new GeneratedStream(Length, Seed), Length);
        Assert.Equal(1, rehash.Total);
    }
}
