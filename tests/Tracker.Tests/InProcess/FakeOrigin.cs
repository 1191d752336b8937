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
using P2PRegistry.Tracker.MetaInfos;

namespace P2PRegistry.Tracker.Tests.InProcess;

/// <summary>A minimal origin on 127.0.0.1:0 serving only <c>GET /p2p/v1/metainfo/&lt;digest&gt;</c>, counting requests.</summary>
internal sealed class FakeOrigin : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _hits;

    private FakeOrigin(WebApplication app) => _app = app;

    /// <summary>What to answer per requested digest string; a digest not here gets 404.</summary>
    public ConcurrentDictionary<string, MetaInfo> Served { get; } = new();

    /// <summary>When set, requests wait for it before answering (to hold a fetch in flight).</summary>
    public TaskCompletionSource? Gate { get; set; }

    public int Hits => Volatile.Read(ref _hits);

    public string Url { get; private set; } = "";

    public static async Task<FakeOrigin> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var origin = new FakeOrigin(app);
        app.MapGet("/p2p/v1/metainfo/{digest}", async (string digest, HttpContext context) =>
        {
            Interlocked.Increment(ref origin._hits);
            if (origin.Gate is { } gate)
            {
                await gate.Task.WaitAsync(TimeSpan.FromSeconds(30), context.RequestAborted);
            }

            if (!origin.Served.TryGetValue(digest, out var metaInfo))
            {
                return Results.NotFound();
            }

            context.Response.Headers[OriginMetaInfoClient.InfoHashHeader] = metaInfo.InfoHash.ToHex();
            return Results.Bytes(metaInfo.Encoded, "application/x-bittorrent-info");
        });
        await app.StartAsync();
        origin.Url = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        return origin;
    }

    public void Serve(MetaInfo metaInfo) => Served[metaInfo.Digest.Value] = metaInfo;

    public async ValueTask DisposeAsync()
    {
        Gate?.TrySetResult();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
