using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using P2PRegistry.Core.MetaInfos;

namespace P2PRegistry.Testing.Fakes;

/// <summary>
/// The origin's HTTP API on 127.0.0.1, reduced to tables the test fills: the registry's manifests and blobs
/// (<c>/v2/…</c>, <see cref="Manifests"/>) for agents, and MetaInfos (<c>GET /p2p/v1/metainfo/&lt;digest&gt;</c>,
/// <see cref="Serve"/>) for trackers. Bodies of <see cref="BytesPerSecond"/> &gt; 0 are sent in 64 KiB slices at
/// that rate, like an origin still pulling through.
/// </summary>
public sealed class FakeOrigin : IAsyncDisposable
{
    /// <summary>The response header with the MetaInfo's info hash (the origin's MetaInfoEndpoint, the tracker's OriginMetaInfoClient).</summary>
    public const string InfoHashHeader = "X-P2P-Info-Hash";

    private const string MetaInfoPrefix = "/p2p/v1/metainfo/";
    private const string RegistryPrefix = "/v2/";
    private WebApplication _app = null!;
    private int _hits;

    private FakeOrigin()
    {
    }

    public string Url { get; private set; } = "";

    /// <summary>Registry bodies keyed by the path after <c>/v2/</c>: "name/manifests/reference" or "name/blobs/digest".</summary>
    public ConcurrentDictionary<string, (byte[] Content, string MediaType)> Manifests { get; } = new();

    /// <summary>Every request target received (path and query).</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>Rate of every registry body (0 = as fast as possible).</summary>
    public long BytesPerSecond { get; set; }

    /// <summary>What the MetaInfo endpoint answers per requested digest string; a digest not here gets 404.</summary>
    public ConcurrentDictionary<string, MetaInfo> Served { get; } = new();

    /// <summary>When set, MetaInfo requests wait for it before answering (to hold a fetch in flight).</summary>
    public TaskCompletionSource? Gate { get; set; }

    /// <summary>MetaInfo requests received.</summary>
    public int Hits => Volatile.Read(ref _hits);

    public static async Task<FakeOrigin> StartAsync()
    {
        var origin = new FakeOrigin();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        app.Run(origin.HandleAsync);
        await app.StartAsync();
        origin._app = app;
        origin.Url = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        return origin;
    }

    public void Serve(MetaInfo metaInfo)
    {
        ArgumentNullException.ThrowIfNull(metaInfo);
        Served[metaInfo.Digest.Value] = metaInfo;
    }

    public async ValueTask DisposeAsync()
    {
        Gate?.TrySetResult();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private Task HandleAsync(HttpContext context)
    {
        Requests.Enqueue(context.Request.Path + context.Request.QueryString);
        var path = context.Request.Path.Value ?? "";
        if (path.StartsWith(MetaInfoPrefix, StringComparison.Ordinal) && HttpMethods.IsGet(context.Request.Method))
        {
            return MetaInfoAsync(context, path[MetaInfoPrefix.Length..]);
        }

        if (path.StartsWith(RegistryPrefix, StringComparison.Ordinal))
        {
            return RegistryAsync(context, path[RegistryPrefix.Length..]);
        }

        context.Response.StatusCode = (int)HttpStatusCode.NotFound;
        return Task.CompletedTask;
    }

    private async Task MetaInfoAsync(HttpContext context, string digest)
    {
        Interlocked.Increment(ref _hits);
        if (Gate is { } gate)
        {
            await gate.Task.WaitAsync(TimeSpan.FromSeconds(30), context.RequestAborted);
        }

        if (!Served.TryGetValue(digest, out var metaInfo))
        {
            context.Response.StatusCode = (int)HttpStatusCode.NotFound;
            return;
        }

        context.Response.Headers[InfoHashHeader] = metaInfo.InfoHash.ToHex();
        context.Response.ContentType = "application/x-bittorrent-info";
        context.Response.ContentLength = metaInfo.Encoded.Length;
        await context.Response.Body.WriteAsync(metaInfo.Encoded, context.RequestAborted);
    }

    private async Task RegistryAsync(HttpContext context, string key)
    {
        if (!Manifests.TryGetValue(key, out var entry))
        {
            context.Response.StatusCode = (int)HttpStatusCode.NotFound;
            return;
        }

        context.Response.ContentType = entry.MediaType;
        context.Response.ContentLength = entry.Content.Length;
        var rate = BytesPerSecond;
        if (rate <= 0)
        {
            await context.Response.Body.WriteAsync(entry.Content);
            return;
        }

        const int slice = 64 * 1024;
        for (var offset = 0; offset < entry.Content.Length; offset += slice)
        {
            await context.Response.Body.WriteAsync(entry.Content.AsMemory(offset, Math.Min(slice, entry.Content.Length - offset)), context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            await Task.Delay(TimeSpan.FromSeconds((double)slice / rate), context.RequestAborted);
        }
    }
}
