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

/// <summary>The origin's manifest API, reduced to a table the test fills: path → (bytes, media type).</summary>
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

    public static async Task<FakeOrigin> StartAsync()
    {
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
            await context.Response.Body.WriteAsync(manifest.Item1);
        });
        await app.StartAsync();
        return new FakeOrigin(app, manifests, requests);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
