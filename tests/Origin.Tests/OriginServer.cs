using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using P2PRegistry.Core.Content;

namespace P2PRegistry.Origin.Tests;

/// <summary>The real origin on Kestrel at 127.0.0.1:0 with its own temp storage, and a client for it.</summary>
public sealed class OriginServer : IAsyncDisposable
{
    private readonly bool _ownsStorage;

    private OriginServer(WebApplication app, string storagePath, bool ownsStorage, Uri baseAddress)
    {
        App = app;
        StoragePath = storagePath;
        _ownsStorage = ownsStorage;
        BaseAddress = baseAddress;
        Client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false })
        {
            BaseAddress = baseAddress,
            Timeout = TimeSpan.FromSeconds(60),
        };
    }

    public WebApplication App { get; }

    public string StoragePath { get; }

    public Uri BaseAddress { get; }

    public HttpClient Client { get; }

    public IServiceProvider Services => App.Services;

    public static string NewStoragePath() => Path.Combine(Path.GetTempPath(), "p2preg-origin-tests", Guid.NewGuid().ToString("N"));

    /// <summary>
    /// Starts an origin; <paramref name="storagePath"/> reuses a store (restart tests) and is then not deleted.
    /// Anonymous push is on unless <paramref name="extraArgs"/> configure push authentication (any <c>--Origin:Push:</c>
    /// argument): a test about authentication meets the production default.
    /// </summary>
    public static async Task<OriginServer> StartAsync(string[]? extraArgs = null, string? storagePath = null, Action<IServiceCollection>? configureServices = null)
    {
        var owns = storagePath is null;
        storagePath ??= NewStoragePath();
        extraArgs ??= [];
        string[] anonymous = extraArgs.Any(a => a.StartsWith("--Origin:Push:", StringComparison.Ordinal)) ? [] : ["--Origin:Push:AllowAnonymous=true"];
        string[] args = ["--urls", "http://127.0.0.1:0", $"--Origin:StoragePath={storagePath}", "--Logging:LogLevel:Default=Warning", "--Origin:Peer:Port=0", .. anonymous, .. extraArgs];
        var app = OriginApp.Build(args, configureServices);
        try
        {
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            if (owns && Directory.Exists(storagePath))
            {
                Directory.Delete(storagePath, recursive: true);
            }

            throw;
        }

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new OriginServer(app, storagePath, owns, new Uri(address));
    }

    /// <summary>Stops the server but keeps its storage (for restart tests).</summary>
    public async Task StopAsync()
    {
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        catch (ObjectDisposedException)
        {
        }

        if (_ownsStorage && Directory.Exists(StoragePath))
        {
            Directory.Delete(StoragePath, recursive: true);
        }
    }

    public string BlobDataPath(Digest digest) => Path.Combine(StoragePath, "blobs", "sha256", digest.Hex[..2], digest.Hex, "data");

    public string[] BlobFiles() => Directory.Exists(Path.Combine(StoragePath, "blobs"))
        ? Directory.GetFiles(Path.Combine(StoragePath, "blobs"), "*", SearchOption.AllDirectories)
        : [];

    /// <summary>Pushes a blob the way containerd does: POST, then PUT ?digest= with the whole body.</summary>
    public async Task<Digest> PushBlobAsync(string name, byte[] content)
    {
        var digest = Digest.Compute(content);
        var location = await StartUploadAsync(name);
        using var put = await Client.PutAsync($"{location}?digest={digest.Value}", Bytes(content));
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        return digest;
    }

    public async Task<string> StartUploadAsync(string name)
    {
        using var post = await Client.PostAsync($"/v2/{name}/blobs/uploads/", null);
        Assert.Equal(HttpStatusCode.Accepted, post.StatusCode);
        return post.Headers.Location!.OriginalString;
    }

    public async Task<(Digest Digest, byte[] Body)> PushManifestAsync(string name, string reference, byte[] body, string mediaType = "application/vnd.oci.image.manifest.v1+json")
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        using var put = await Client.PutAsync($"/v2/{name}/manifests/{reference}", content);
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        return (Digest.Compute(body), body);
    }

    /// <summary>Pushes a config and one layer and an image manifest over them, tagged.</summary>
    public async Task<(Digest Digest, byte[] Body)> PushImageAsync(string name, string tag, int seed = 1)
    {
        var config = await PushBlobAsync(name, RandomBytes(100, seed));
        var layerBytes = RandomBytes(3000, seed + 1000);
        var layer = await PushBlobAsync(name, layerBytes);
        return await PushManifestAsync(name, tag, ImageManifest(config, 100, layer, layerBytes.Length));
    }

    public static byte[] ImageManifest(Digest config, long configSize, Digest layer, long layerSize) =>
        JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = "application/vnd.oci.image.manifest.v1+json",
            ["config"] = new Dictionary<string, object> { ["mediaType"] = "application/vnd.oci.image.config.v1+json", ["digest"] = config.Value, ["size"] = configSize },
            ["layers"] = new[] { new Dictionary<string, object> { ["mediaType"] = "application/vnd.oci.image.layer.v1.tar+gzip", ["digest"] = layer.Value, ["size"] = layerSize } },
        });

    public static ByteArrayContent Bytes(byte[] content, int offset = 0, int? count = null)
    {
        var body = new ByteArrayContent(content, offset, count ?? content.Length - offset);
        body.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return body;
    }

    public static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>The error codes of an OCI error body.</summary>
    public static async Task<string[]> ErrorCodesAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync());
        return [.. json.RootElement.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("code").GetString()!)];
    }

    public static async Task AssertErrorAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Contains(code, await ErrorCodesAsync(response));
    }
}
