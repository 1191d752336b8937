using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using P2PRegistry.Core.Content;

namespace P2PRegistry.Origin.Tests.Upstream;

/// <summary>
/// An in-process upstream registry (anonymous, plain HTTP) whose blob bodies can be held half way (<see cref="Gate"/>),
/// corrupted or refused, and which counts what it was asked: the pull-through edge cases a real registry cannot be made to show.
/// </summary>
public sealed class FakeUpstream : IAsyncDisposable
{
    public const string Name = "fake.registry:5000";

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, int> _counts = new(StringComparer.Ordinal);

    private FakeUpstream(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    /// <summary>digest → bytes.</summary>
    public ConcurrentDictionary<string, byte[]> Blobs { get; } = new(StringComparer.Ordinal);

    /// <summary>"repository:reference" → manifest (by tag and by digest).</summary>
    public ConcurrentDictionary<string, (byte[] Body, string MediaType)> Manifests { get; } = new(StringComparer.Ordinal);

    /// <summary>When set, blob bodies stop after their first half until it completes.</summary>
    /// <summary>Referrers responses by <c>repository@subject digest</c> (body as sent, with an optional OCI-Filters-Applied); others are 404.</summary>
    public ConcurrentDictionary<string, (byte[] Body, string? FiltersApplied)> Referrers { get; } = new(StringComparer.Ordinal);

    /// <summary>The query strings referrers requests arrived with.</summary>
    public ConcurrentQueue<string> ReferrersQueries { get; } = new();

    public TaskCompletionSource? Gate { get; set; }

    /// <summary>Flip one byte in the second half of every blob body.</summary>
    public bool Corrupt { get; set; }

    /// <summary>Send a wrong Docker-Content-Digest with manifest bodies (HEAD stays truthful).</summary>
    public bool LieAboutManifestDigest { get; set; }

    /// <summary>When set, blob GETs are answered <c>307</c> to this URL (a CDN, or an attacker's target).</summary>
    public Uri? RedirectBlobsTo { get; set; }

    /// <summary>Answer every request with 500.</summary>
    public bool Broken { get; set; }

    /// <summary>Accept every request and then say nothing (no headers) until the fake is disposed or the client leaves.</summary>
    public bool StallHeaders { get; set; }

    /// <summary>Send blob headers and the first half of the body, then nothing until the fake is disposed or the client leaves.</summary>
    public bool StallBody { get; set; }

    private readonly CancellationTokenSource _stopping = new();

    /// <summary>The arguments that make an origin use this upstream.</summary>
    public string[] OriginArguments(params string[] more) =>
    [
        $"--Origin:Upstreams:0:Name={Name}",
        $"--Origin:Upstreams:0:Url={BaseAddress}",
        "--Origin:Upstreams:0:AllowHttp=true",
        .. more,
    ];

    /// <summary>How many "METHOD kind" requests arrived, e.g. <c>Count("GET", "blobs/sha256:…")</c>.</summary>
    public int Count(string method, string tail) => _counts.GetValueOrDefault($"{method} {tail}");

    public int Total => _counts.Values.Sum();

    public (Digest Digest, byte[] Body) AddImage(string repository, string tag, byte[] layer, byte[] config)
    {
        var layerDigest = Digest.Compute(layer);
        var configDigest = Digest.Compute(config);
        Blobs[layerDigest.Value] = layer;
        Blobs[configDigest.Value] = config;
        var manifest = OriginServer.ImageManifest(configDigest, config.Length, layerDigest, layer.Length);
        var digest = Digest.Compute(manifest);
        Manifests[$"{repository}:{tag}"] = (manifest, "application/vnd.oci.image.manifest.v1+json");
        Manifests[$"{repository}:{digest.Value}"] = (manifest, "application/vnd.oci.image.manifest.v1+json");
        return (digest, manifest);
    }

    public static async Task<FakeUpstream> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        FakeUpstream? self = null;
        app.MapMethods("/v2/{**rest}", ["GET", "HEAD"], (HttpContext context, string rest) => self!.HandleAsync(context, rest));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        self = new FakeUpstream(app, new Uri(address + "/"));
        return self;
    }

    private async Task HandleAsync(HttpContext context, string rest)
    {
        var head = HttpMethods.IsHead(context.Request.Method);
        var blobs = rest.LastIndexOf("/blobs/", StringComparison.Ordinal);
        var manifests = rest.LastIndexOf("/manifests/", StringComparison.Ordinal);
        var tail = blobs >= 0 ? rest[(blobs + 1)..] : manifests >= 0 ? rest[(manifests + 1)..] : rest;
        _counts.AddOrUpdate($"{context.Request.Method} {tail}", 1, (_, n) => n + 1);
        if (Broken)
        {
            context.Response.StatusCode = 500;
            return;
        }

        if (StallHeaders)
        {
            await HangAsync(context);
            return;
        }

        if (blobs >= 0)
        {
            if (!Blobs.TryGetValue(rest[(blobs + "/blobs/".Length)..], out var blob))
            {
                context.Response.StatusCode = 404;
                return;
            }

            if (RedirectBlobsTo is { } target && !head)
            {
                context.Response.StatusCode = 307;
                context.Response.Headers.Location = target.ToString();
                return;
            }

            context.Response.ContentType = "application/octet-stream";
            context.Response.ContentLength = blob.Length;
            if (head)
            {
                return;
            }

            var half = blob.Length / 2;
            await context.Response.Body.WriteAsync(blob.AsMemory(0, half));
            await context.Response.Body.FlushAsync();
            if (StallBody)
            {
                await HangAsync(context);
                return;
            }

            if (Gate is { } gate)
            {
                await gate.Task.WaitAsync(TimeSpan.FromSeconds(30));
            }

            var second = blob[half..];
            if (Corrupt)
            {
                second = (byte[])second.Clone();
                second[second.Length / 2] ^= 0xFF;
            }

            await context.Response.Body.WriteAsync(second);
            return;
        }

        var referrers = rest.LastIndexOf("/referrers/", StringComparison.Ordinal);
        if (referrers >= 0 && blobs < 0 && manifests < 0)
        {
            ReferrersQueries.Enqueue(context.Request.QueryString.Value ?? "");
            if (!Referrers.TryGetValue($"{rest[..referrers]}@{rest[(referrers + "/referrers/".Length)..]}", out var index))
            {
                context.Response.StatusCode = 404;
                return;
            }

            context.Response.ContentType = "application/vnd.oci.image.index.v1+json";
            context.Response.ContentLength = index.Body.Length;
            if (index.FiltersApplied is { } filters)
            {
                context.Response.Headers["OCI-Filters-Applied"] = filters;
            }

            if (!head)
            {
                await context.Response.Body.WriteAsync(index.Body);
            }

            return;
        }

        if (manifests >= 0)
        {
            var repository = rest[..manifests];
            var reference = rest[(manifests + "/manifests/".Length)..];
            if (!Manifests.TryGetValue($"{repository}:{reference}", out var manifest))
            {
                context.Response.StatusCode = 404;
                return;
            }

            context.Response.ContentType = manifest.MediaType;
            context.Response.ContentLength = manifest.Body.Length;
            context.Response.Headers["Docker-Content-Digest"] = LieAboutManifestDigest && !head ? Digest.Compute("lie"u8).Value : Digest.Compute(manifest.Body).Value;
            if (!head)
            {
                await context.Response.Body.WriteAsync(manifest.Body);
            }

            return;
        }

        context.Response.StatusCode = 404;
    }

    private async Task HangAsync(HttpContext context)
    {
        using var either = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token, context.RequestAborted);
        try
        {
            await Task.Delay(TimeSpan.FromMinutes(5), either.Token);
        }
        catch (OperationCanceledException)
        {
        }

        context.Abort();
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        Gate?.TrySetResult();
        await _app.DisposeAsync();
        _stopping.Dispose();
    }
}
