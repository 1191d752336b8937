using System.Net;

namespace P2PRegistry.Integration.Tests.Origin;

/// <summary>With push credentials configured, pushes need them and pulls stay anonymous.</summary>
[Trait("Category", TestCategories.Integration)]
[Trait("Registry", "origin")]
public sealed class OriginPushCredentialsTests : IClassFixture<CredentialedOriginFixture>, IDisposable
{
    private readonly CredentialedOriginFixture _fixture;
    private readonly TempDirectory _temp = new("creds");

    public OriginPushCredentialsTests(CredentialedOriginFixture fixture, ITestOutputHelper output)
    {
        _fixture = fixture;
        fixture.Output.Attach(output);
    }

    private OriginProcess Origin => _fixture.Origin;

    [Fact]
    public async Task SkopeoPush_WithoutCredentials_FailsAndStoresNothing()
    {
        var image = (await TestImages.GetAsync()).SmallAmd64;
        var result = await Skopeo.CopyAsync(image.Reference, Skopeo.Docker(Origin.Host, "creds/anonymous", "v1"));
        Assert.False(result.Succeeded, "an anonymous push was accepted: " + result.Describe());

        using var client = new RegistryClient(Origin.BaseAddress);
        using (var manifest = await client.HeadManifestAsync("creds/anonymous", "v1"))
        {
            Assert.Equal(HttpStatusCode.NotFound, manifest.StatusCode);
        }

        using var post = await client.StartUploadAsync("creds/anonymous");
        Assert.Equal(HttpStatusCode.Unauthorized, post.StatusCode);
        Assert.NotEmpty(post.Headers.WwwAuthenticate);
    }

    [Fact]
    public async Task SkopeoPush_WithWrongPassword_Fails()
    {
        var image = (await TestImages.GetAsync()).SmallAmd64;
        var result = await Skopeo.CopyAsync(
            image.Reference,
            Skopeo.Docker(Origin.Host, "creds/wrong", "v1"),
            new SkopeoCopyOptions { DestinationCredentials = CredentialedOriginFixture.Pusher with { Password = "not-the-password" } });
        Assert.False(result.Succeeded, "a push with a wrong password was accepted: " + result.Describe());

        using var client = new RegistryClient(Origin.BaseAddress, "pusher", "not-the-password");
        using var post = await client.StartUploadAsync("creds/wrong");
        Assert.Equal(HttpStatusCode.Unauthorized, post.StatusCode);
    }

    [Fact]
    public async Task SkopeoPush_WithCredentials_SucceedsAndAnonymousPullGetsTheSameImage()
    {
        var image = (await TestImages.GetAsync()).SmallAmd64;
        var destination = Skopeo.Docker(Origin.Host, "creds/pushed", "v1");
        var pushed = await Skopeo.PushAsync(
            image.Reference,
            destination,
            new SkopeoCopyOptions { PreserveDigests = true, DestinationCredentials = CredentialedOriginFixture.Pusher });
        Assert.Equal(image.ManifestDigest, pushed);

        // Anonymous: skopeo with --src-no-creds, and plain HTTP GETs with no Authorization header.
        var dir = _temp.Combine("pulled");
        await Skopeo.CopyOrThrowAsync(destination, Skopeo.Dir(dir));
        var pulled = DirImageLayout.Open(dir);
        Assert.Equal(image.ManifestDigest, pulled.ManifestDigest());
        Assert.Empty(pulled.Problems());

        using var client = new RegistryClient(Origin.BaseAddress);
        using (var manifest = await client.HeadManifestAsync("creds/pushed", "v1"))
        {
            Assert.Equal(HttpStatusCode.OK, manifest.StatusCode);
        }

        var layer = image.Layers[^1];
        Assert.Equal((layer.Digest, layer.Size), await client.GetBlobDigestAsync("creds/pushed", layer.Digest));
    }

    public void Dispose()
    {
        _fixture.Output.Attach(null);
        _temp.Dispose();
    }
}
