using System.Net;
using P2PRegistry.Testing.Http;

namespace P2PRegistry.Integration.Tests.Origin;

/// <summary>A client that dies in the middle of a blob upload must leave nothing visible, and must not block a later upload.</summary>
public abstract class UploadResilienceTests<TFixture> : IClassFixture<TFixture>, IDisposable
    where TFixture : class, IRegistryFixture
{
    private readonly TFixture _fixture;

    protected UploadResilienceTests(TFixture fixture, ITestOutputHelper output)
    {
        _fixture = fixture;
        fixture.Output.Attach(output);
    }

    private IRegistryProcess Registry => _fixture.Registry;

    [Fact]
    public async Task PatchUpload_ClientDisconnectsHalfway_NoBlobAndLaterFullUploadWorks()
    {
        var image = (await TestImages.GetAsync()).Big;
        var layer = image.Layers[^1];
        var blobFile = OciImageBuilder.BlobPath(image.LayoutPath, layer.Digest);
        const string repository = "resilience/disconnect";
        using var client = new RegistryClient(Registry.BaseAddress);

        var location = await client.StartUploadOrThrowAsync(repository);
        using (var abort = new CancellationTokenSource())
        {
            var half = layer.Size / 2;
            var content = new FileRangeContent(blobFile, delayPerChunk: TimeSpan.FromMilliseconds(2))
            {
                OnProgress = written =>
                {
                    if (written >= half)
                    {
                        abort.Cancel();
                    }
                },
            };
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.PatchAsync(location, content, abort.Token));
            Assert.InRange(content.BytesWritten, half, layer.Size - 1);
        }

        using (var head = await client.HeadBlobAsync(repository, layer.Digest))
        {
            Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);
        }

        // Closing the broken session with the whole blob's digest must not commit the half it received.
        using (var put = await client.PutDigestAsync(location, layer.Digest))
        {
            Assert.False(put.IsSuccessStatusCode, $"PUT of the interrupted upload answered {(int)put.StatusCode}");
        }

        using (var head = await client.HeadBlobAsync(repository, layer.Digest))
        {
            Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);
        }

        Assert.Equal(HttpStatusCode.Created, await client.UploadFileAsync(repository, blobFile, layer.Digest));
        using (var head = await client.HeadBlobAsync(repository, layer.Digest))
        {
            Assert.Equal(HttpStatusCode.OK, head.StatusCode);
            Assert.Equal(layer.Size, head.Content.Headers.ContentLength);
        }

        var (digest, length) = await client.GetBlobDigestAsync(repository, layer.Digest);
        Assert.Equal(layer.Size, length);
        Assert.Equal(layer.Digest, digest);
    }

    public void Dispose() => _fixture.Output.Attach(null);
}

[Trait("Category", TestCategories.Integration)]
[Trait("Registry", "origin")]
public sealed class OriginUploadResilienceTests(OriginFixture fixture, ITestOutputHelper output)
    : UploadResilienceTests<OriginFixture>(fixture, output);

[Trait("Category", TestCategories.Integration)]
[Trait("Registry", "docker-registry")]
public sealed class DockerRegistryUploadResilienceTests(DockerRegistryFixture fixture, ITestOutputHelper output)
    : UploadResilienceTests<DockerRegistryFixture>(fixture, output);
