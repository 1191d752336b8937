using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace P2PRegistry.Agent.Tests.Support;

/// <summary>
/// The origin's manifest and blob API, reduced to a table the test fills: path → (bytes, media type). Bodies of
/// <see cref="BytesPerSecond"/> &gt; 0 are sent in 64 KiB slices at that rate, like an origin still pulling through.
/// </summary>
internal sealed class FakeOrigin : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FakeOrigin(WebApplication app, ConcurrentDictionary<string, (byte[] Content, string MediaType)> manifests, ConcurrentQueue<string> requests)
    {
        _app = app;
        Manifests = manifests;
        Requests = requests;
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Url = address;
    }

    public string Url { get; }

    /// <summary>Keyed by "name/manifests/reference".</summary>
    public ConcurrentDictionary<string, (byte[] Content, string MediaType)> Manifests { get; }

    /// <summary>Every request target received.</summary>
    public ConcurrentQueue<string> Requests { get; }

    /// <summary>Rate of every body (0 = as fast as possible).</summary>
    public long BytesPerSecond { get; set; }

    public static async Task<FakeOrigin> StartAsync()
    {
        FakeOrigin? origin = null;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var manifests = new ConcurrentDictionary<string, (byte[], string)>();
        var requests = new ConcurrentQueue<string>();
        app.Run(async context =>
        {
            requests.Enqueue(context.Request.Path + context.Request.QueryString);
            var key = context.Request.Path.Value!["/v2/".Length..];
            if (!manifests.TryGetValue(key, out var manifest))
            {
                context.Response.StatusCode = (int)HttpStatusCode.NotFound;
                return;
            }

            context.Response.ContentType = manifest.Item2;
            context.Response.ContentLength = manifest.Item1.Length;
            var rate = origin?.BytesPerSecond ?? 0;
            if (rate <= 0)
            {
                await context.Response.Body.WriteAsync(manifest.Item1);
                return;
            }

            const int slice = 64 * 1024;
            for (var offset = 0; offset < manifest.Item1.Length; offset += slice)
            {
                await context.Response.Body.WriteAsync(manifest.Item1.AsMemory(offset, Math.Min(slice, manifest.Item1.Length - offset)), context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
                await Task.Delay(TimeSpan.FromSeconds((double)slice / rate), context.RequestAborted);
            }
        });
        await app.StartAsync();
        origin = new FakeOrigin(app, manifests, requests);
        return origin;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
