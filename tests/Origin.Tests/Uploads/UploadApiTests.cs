using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using P2PRegistry.Core.Content;
using P2PRegistry.Origin.Uploads;

namespace P2PRegistry.Origin.Tests.Uploads;

public sealed class UploadApiTests(OriginFixture fixture) : IClassFixture<OriginFixture>
{
    private readonly OriginServer _origin = fixture.Server;

    private HttpClient Client => _origin.Client;

    private static string RangeOf(HttpResponseMessage response) => response.Headers.GetValues("Range").Single();

    private async Task AssertBlobAsync(string name, Digest digest, byte[] content)
    {
        using var get = await Client.GetAsync($"/v2/{name}/blobs/{digest.Value}");
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(content, await get.Content.ReadAsByteArrayAsync());
    }

    private void AssertNotStored(Digest digest)
    {
        Assert.False(Directory.Exists(Path.GetDirectoryName(_origin.BlobDataPath(digest))), $"{digest} has a blob folder");
    }

    [Fact]
    public async Task Post_StartsSession_202WithLocationUuidAndRange()
    {
        using var post = await Client.PostAsync("/v2/up/start/blobs/uploads/", null);
        Assert.Equal(HttpStatusCode.Accepted, post.StatusCode);
        var uuid = post.Headers.GetValues("Docker-Upload-UUID").Single();
        Assert.Equal($"/v2/up/start/blobs/uploads/{uuid}", post.Headers.Location!.OriginalString);
        Assert.Equal("0-0", RangeOf(post));
    }

    [Fact]
    public async Task StreamedPatch_ThenPutWithoutBody_Stores201()
    {
        // skopeo: one PATCH with the whole blob and no Content-Range, then PUT ?digest= with no body.
        var content = OriginServer.RandomBytes(300_000, 1);
        var digest = Digest.Compute(content);
        var location = await _origin.StartUploadAsync("up/streamed");

        using var patch = await Client.PatchAsync(location, OriginServer.Bytes(content));
        Assert.Equal(HttpStatusCode.Accepted, patch.StatusCode);
        Assert.Equal("0-299999", RangeOf(patch));
        Assert.Equal(location, patch.Headers.Location!.OriginalString);

        using var put = await Client.PutAsync($"{location}?digest={Uri.EscapeDataString(digest.Value)}", null);
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        Assert.Equal($"/v2/up/streamed/blobs/{digest.Value}", put.Headers.Location!.OriginalString);
        Assert.Equal(digest.Value, put.Headers.GetValues("Docker-Content-Digest").Single());
        await AssertBlobAsync("up/streamed", digest, content);

        using var status = await Client.GetAsync(location);
        await OriginServer.AssertErrorAsync(status, HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
    }

    [Fact]
    public async Task StreamedPatch_ChunkedTransferEncoding_Stores()
    {
        var content = OriginServer.RandomBytes(2_500_000, 2);
        var digest = Digest.Compute(content);
        var location = await _origin.StartUploadAsync("up/chunked-te");
        using var body = new StreamContent(new NonSeekableStream(content));
        using var patch = await Client.PatchAsync(location, body);
        Assert.Equal(HttpStatusCode.Accepted, patch.StatusCode);
        Assert.Equal($"0-{content.Length - 1}", RangeOf(patch));
        using var put = await Client.PutAsync($"{location}?digest={digest.Value}", null);
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        await AssertBlobAsync("up/chunked-te", digest, content);
    }

    [Fact]
    public async Task ChunkedPatches_InOrder_StatusReportsRange_Stores()
    {
        var content = OriginServer.RandomBytes(3000, 3);
        var digest = Digest.Compute(content);
        var location = await _origin.StartUploadAsync("up/chunks");
        for (var start = 0; start < 3000; start += 1000)
        {
            using var chunk = OriginServer.Bytes(content, start, 1000);
            chunk.Headers.TryAddWithoutValidation("Content-Range", $"{start}-{start + 999}");
            using var patch = await Client.PatchAsync(location, chunk);
            Assert.Equal(HttpStatusCode.Accepted, patch.StatusCode);
            Assert.Equal($"0-{start + 999}", RangeOf(patch));

            using var status = await Client.GetAsync(location);
            Assert.Equal(HttpStatusCode.NoContent, status.StatusCode);
            Assert.Equal($"0-{start + 999}", RangeOf(status));
            Assert.NotEmpty(status.Headers.GetValues("Docker-Upload-UUID"));
        }

        using var put = await Client.PutAsync($"{location}?digest={digest.Value}", null);
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        await AssertBlobAsync("up/chunks", digest, content);
    }

    [Fact]
    public async Task ChunkedPatch_OutOfOrder_416WithCurrentRange_ThenResumes()
    {
        var content = OriginServer.RandomBytes(3000, 4);
        var digest = Digest.Compute(content);
        var location = await _origin.StartUploadAsync("up/out-of-order");

        using (var first = OriginServer.Bytes(content, 0, 1000))
        {
            first.Headers.TryAddWithoutValidation("Content-Range", "0-999");
            using var patch = await Client.PatchAsync(location, first);
            Assert.Equal(HttpStatusCode.Accepted, patch.StatusCode);
        }

        using (var skipped = OriginServer.Bytes(content, 2000, 1000))
        {
            skipped.Headers.TryAddWithoutValidation("Content-Range", "2000-2999");
            using var patch = await Client.PatchAsync(location, skipped);
            Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, patch.StatusCode);
            Assert.Equal("0-999", RangeOf(patch));
        }

        using (var rest = OriginServer.Bytes(content, 1000, 2000))
        {
            rest.Headers.TryAddWithoutValidation("Content-Range", "1000-2999");
            using var patch = await Client.PatchAsync(location, rest);
            Assert.Equal(HttpStatusCode.Accepted, patch.StatusCode);
        }

        using var put = await Client.PutAsync($"{location}?digest={digest.Value}", null);
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        await AssertBlobAsync("up/out-of-order", digest, content);
    }

    [Fact]
    public async Task MonolithicPut_WithBody_Stores201()
    {
        var content = OriginServer.RandomBytes(5000, 5);
        var digest = await _origin.PushBlobAsync("up/monolithic", content);
        await AssertBlobAsync("up/monolithic", digest, content);
    }

    [Fact]
    public async Task PatchThenPutWithFinalBody_Stores()
    {
        var content = OriginServer.RandomBytes(5000, 6);
        var digest = Digest.Compute(content);
        var location = await _origin.StartUploadAsync("up/final-body");
        using var patch = await Client.PatchAsync(location, OriginServer.Bytes(content, 0, 2000));
        Assert.Equal(HttpStatusCode.Accepted, patch.StatusCode);
        using var put = await Client.PutAsync($"{location}?digest={digest.Value}", OriginServer.Bytes(content, 2000));
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        await AssertBlobAsync("up/final-body", digest, content);
    }

    [Fact]
    public async Task SingleRequestPost_WithDigest_201()
    {
        var content = OriginServer.RandomBytes(4096, 7);
        var digest = Digest.Compute(content);
        using var post = await Client.PostAsync($"/v2/up/single/blobs/uploads/?digest={digest.Value}", OriginServer.Bytes(content));
        Assert.Equal(HttpStatusCode.Created, post.StatusCode);
        Assert.Equal($"/v2/up/single/blobs/{digest.Value}", post.Headers.Location!.OriginalString);
        Assert.Equal(digest.Value, post.Headers.GetValues("Docker-Content-Digest").Single());
        await AssertBlobAsync("up/single", digest, content);
    }

    [Fact]
    public async Task EmptyBlob_SingleRequest_StoredAndServed()
    {
        var digest = Digest.Compute([]);
        using var post = await Client.PostAsync($"/v2/up/empty/blobs/uploads/?digest={digest.Value}", OriginServer.Bytes([]));
        Assert.Equal(HttpStatusCode.Created, post.StatusCode);
        using var get = await Client.GetAsync($"/v2/up/empty/blobs/{digest.Value}");
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(0, get.Content.Headers.ContentLength);
    }

    [Fact]
    public async Task DigestMismatch_400_NothingStored_SessionGone()
    {
        var content = OriginServer.RandomBytes(10_000, 8);
        var actual = Digest.Compute(content);
        var claimed = Digest.Compute("something else"u8);
        var location = await _origin.StartUploadAsync("up/mismatch");
        using var patch = await Client.PatchAsync(location, OriginServer.Bytes(content));
        Assert.Equal(HttpStatusCode.Accepted, patch.StatusCode);

        using var put = await Client.PutAsync($"{location}?digest={claimed.Value}", null);
        await OriginServer.AssertErrorAsync(put, HttpStatusCode.BadRequest, "DIGEST_INVALID");

        foreach (var digest in new[] { actual, claimed })
        {
            using var get = await Client.GetAsync($"/v2/up/mismatch/blobs/{digest.Value}");
            await OriginServer.AssertErrorAsync(get, HttpStatusCode.NotFound, "BLOB_UNKNOWN");
            AssertNotStored(digest);
        }

        using var status = await Client.GetAsync(location);
        await OriginServer.AssertErrorAsync(status, HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
        var id = location[(location.LastIndexOf('/') + 1)..];
        Assert.False(Directory.Exists(Path.Combine(_origin.StoragePath, "uploads", id)));
    }

    [Fact]
    public async Task SingleRequestPost_DigestMismatch_400NothingStored()
    {
        var content = OriginServer.RandomBytes(1000, 9);
        var claimed = Digest.Compute("other"u8);
        using var post = await Client.PostAsync($"/v2/up/single-mismatch/blobs/uploads/?digest={claimed.Value}", OriginServer.Bytes(content));
        await OriginServer.AssertErrorAsync(post, HttpStatusCode.BadRequest, "DIGEST_INVALID");
        AssertNotStored(Digest.Compute(content));
        AssertNotStored(claimed);
    }

    [Theory]
    [InlineData("")]
    [InlineData("?digest=sha256:1234")]
    [InlineData("?digest=sha512:abcd")]
    public async Task Put_MissingOrMalformedDigest_400DigestInvalid(string query)
    {
        var location = await _origin.StartUploadAsync("up/bad-digest");
        using var put = await Client.PutAsync(location + query, OriginServer.Bytes([1, 2, 3]));
        await OriginServer.AssertErrorAsync(put, HttpStatusCode.BadRequest, "DIGEST_INVALID");
    }

    [Fact]
    public async Task UnknownSession_404BlobUploadUnknown()
    {
        var location = "/v2/up/unknown/blobs/uploads/00000000-0000-0000-0000-000000000000";
        using var patch = await Client.PatchAsync(location, OriginServer.Bytes([1]));
        await OriginServer.AssertErrorAsync(patch, HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
        using var put = await Client.PutAsync($"{location}?digest={Digest.Compute([1]).Value}", null);
        await OriginServer.AssertErrorAsync(put, HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
        using var get = await Client.GetAsync(location);
        await OriginServer.AssertErrorAsync(get, HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");

        // A session belongs to the repository it was started in.
        var real = await _origin.StartUploadAsync("up/owner");
        using var foreign = await Client.GetAsync(real.Replace("up/owner", "up/thief", StringComparison.Ordinal));
        await OriginServer.AssertErrorAsync(foreign, HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
    }

    [Fact]
    public async Task DeleteSession_Cancels_204ThenUnknown()
    {
        var location = await _origin.StartUploadAsync("up/cancel");
        using var patch = await Client.PatchAsync(location, OriginServer.Bytes([1, 2, 3]));
        using var delete = await Client.DeleteAsync(location);
        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        using var get = await Client.GetAsync(location);
        await OriginServer.AssertErrorAsync(get, HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
    }

    [Fact]
    public async Task Mount_FromRepositoryHoldingBlob_201()
    {
        var content = OriginServer.RandomBytes(1234, 10);
        var digest = await _origin.PushBlobAsync("up/mount-source", content);
        using var post = await Client.PostAsync($"/v2/up/mount-target/blobs/uploads/?mount={digest.Value}&from=up/mount-source", null);
        Assert.Equal(HttpStatusCode.Created, post.StatusCode);
        Assert.Equal($"/v2/up/mount-target/blobs/{digest.Value}", post.Headers.Location!.OriginalString);
        Assert.Equal(digest.Value, post.Headers.GetValues("Docker-Content-Digest").Single());
        await AssertBlobAsync("up/mount-target", digest, content);
    }

    [Fact]
    public async Task Mount_FromRepositoryWithoutBlob_202NormalUpload()
    {
        var content = OriginServer.RandomBytes(1234, 11);
        var digest = await _origin.PushBlobAsync("up/mount-elsewhere", content);
        using var post = await Client.PostAsync($"/v2/up/mount-target2/blobs/uploads/?mount={digest.Value}&from=up/mount-empty", null);
        Assert.Equal(HttpStatusCode.Accepted, post.StatusCode);
        var location = post.Headers.Location!.OriginalString;
        Assert.Contains("/v2/up/mount-target2/blobs/uploads/", location, StringComparison.Ordinal);
        using var put = await Client.PutAsync($"{location}?digest={digest.Value}", OriginServer.Bytes(content));
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
    }

    [Fact]
    public async Task TwoConcurrentUploadsOfSameBlob_Both201_OneCopy()
    {
        var content = OriginServer.RandomBytes(4 * 1024 * 1024, 12);
        var digest = Digest.Compute(content);
        var a = _origin.PushBlobAsync("up/race-a", content);
        var b = _origin.PushBlobAsync("up/race-b", content);
        Assert.Equal([digest, digest], await Task.WhenAll(a, b));
        await AssertBlobAsync("up/race-a", digest, content);
        await AssertBlobAsync("up/race-b", digest, content);
        var files = Directory.GetFiles(Path.GetDirectoryName(_origin.BlobDataPath(digest))!).Select(Path.GetFileName).Order();
        Assert.Equal(["data", "metainfo"], files);
    }

    [Fact]
    public async Task ClientAbortsMidPatch_NothingVisible_OriginKeepsWorking()
    {
        var content = OriginServer.RandomBytes(3 * 1024 * 1024, 13);
        var digest = Digest.Compute(content);
        var location = await _origin.StartUploadAsync("up/abort");

        using (var tcp = new TcpClient())
        {
            await tcp.ConnectAsync(_origin.BaseAddress.Host, _origin.BaseAddress.Port);
            var stream = tcp.GetStream();
            var head = $"PATCH {location} HTTP/1.1\r\nHost: {_origin.BaseAddress.Authority}\r\nContent-Type: application/octet-stream\r\nContent-Length: {content.Length}\r\n\r\n";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
            await stream.WriteAsync(content.AsMemory(0, 1536 * 1024));
            await stream.FlushAsync();
            await Task.Delay(200);
        }

        using (var get = await Client.GetAsync($"/v2/up/abort/blobs/{digest.Value}"))
        {
            await OriginServer.AssertErrorAsync(get, HttpStatusCode.NotFound, "BLOB_UNKNOWN");
        }

        AssertNotStored(digest);

        // The session keeps what it wrote and hashed; the client resumes from Range, as the spec allows.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            using var status = await Client.GetAsync(location);
            Assert.Equal(HttpStatusCode.NoContent, status.StatusCode);
            var stored = long.Parse(RangeOf(status).Split('-')[1]) + 1;
            var offset = RangeOf(status) == "0-0" ? 0 : (int)stored;
            using var rest = OriginServer.Bytes(content, offset);
            rest.Headers.TryAddWithoutValidation("Content-Range", $"{offset}-{content.Length - 1}");
            using var patch = await Client.PatchAsync(location, rest);
            if (patch.StatusCode == HttpStatusCode.Conflict && DateTime.UtcNow < deadline)
            {
                // The aborted request has not been torn down yet.
                await Task.Delay(50);
                continue;
            }

            Assert.Equal(HttpStatusCode.Accepted, patch.StatusCode);
            break;
        }

        using var put = await Client.PutAsync($"{location}?digest={digest.Value}", null);
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        await AssertBlobAsync("up/abort", digest, content);
    }

    [Fact]
    public async Task SecondConcurrentRequestOnSession_409()
    {
        var location = await _origin.StartUploadAsync("up/busy");
        var content = OriginServer.RandomBytes(2000, 15);

        // A raw connection holds a PATCH open: half its body sent, the rest withheld.
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(_origin.BaseAddress.Host, _origin.BaseAddress.Port);
        var stream = tcp.GetStream();
        var head = $"PATCH {location} HTTP/1.1\r\nHost: {_origin.BaseAddress.Authority}\r\nContent-Type: application/octet-stream\r\nContent-Length: {content.Length}\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        await stream.WriteAsync(content.AsMemory(0, 1000));
        await stream.FlushAsync();

        // Wait (bounded) until the origin is inside that request, then probe with a second one.
        var uploads = _origin.Services.GetRequiredService<UploadManager>();
        var id = location[(location.LastIndexOf('/') + 1)..];
        for (var i = 0; i < 400 && uploads.Find(id, "up/busy")?.IsBusy != true; i++)
        {
            await Task.Delay(25);
        }

        using (var patch = await Client.PatchAsync(location, OriginServer.Bytes([1])))
        {
            await OriginServer.AssertErrorAsync(patch, HttpStatusCode.Conflict, "BLOB_UPLOAD_INVALID");
        }

        await stream.WriteAsync(content.AsMemory(1000));
        await stream.FlushAsync();
        var reader = new StreamReader(stream, Encoding.ASCII);
        Assert.Equal("HTTP/1.1 202 Accepted", await reader.ReadLineAsync());
    }

    [Fact]
    public async Task PatchLargerThanKestrelDefaultBodyLimit_Accepted()
    {
        // Kestrel refuses bodies over 30 MB unless the endpoint lifts the limit.
        var content = OriginServer.RandomBytes(40 * 1024 * 1024, 14);
        var digest = Digest.Compute(content);
        var location = await _origin.StartUploadAsync("up/large");
        using var patch = await Client.PatchAsync(location, OriginServer.Bytes(content));
        Assert.Equal(HttpStatusCode.Accepted, patch.StatusCode);
        using var put = await Client.PutAsync($"{location}?digest={digest.Value}", null);
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        using var head = await Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/v2/up/large/blobs/{digest.Value}"));
        Assert.Equal(content.Length, head.Content.Headers.ContentLength);
    }

    /// <summary>A body of unknown length (sent with chunked transfer encoding).</summary>
    private sealed class NonSeekableStream(byte[] content) : MemoryStream(content)
    {
        public override bool CanSeek => false;
    }
}
