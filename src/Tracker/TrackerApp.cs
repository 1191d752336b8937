using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using P2PRegistry.Hosting;
using P2PRegistry.Hosting.Security;
using P2PRegistry.Tracker.Admission;
using P2PRegistry.Tracker.Announcing;
using P2PRegistry.Tracker.Bep3;
using P2PRegistry.Tracker.Diagnostics;
using P2PRegistry.Tracker.Handout;
using P2PRegistry.Tracker.MetaInfos;
using P2PRegistry.Tracker.Peers;

namespace P2PRegistry.Tracker;

/// <summary>Builds the tracker application; <c>Program</c> runs it and tests start it in-process on real Kestrel.</summary>
public static class TrackerApp
{
    /// <summary>The HTTP listener (health, metrics) as configured (<c>Tracker:HttpUrl</c>), for <see cref="HealthProbe"/>.</summary>
    public static string ListenUrl(IConfiguration configuration) =>
        configuration[$"{TrackerOptions.SectionName}:{nameof(TrackerOptions.HttpUrl)}"] is { Length: > 0 } url ? url : new TrackerOptions().HttpUrl;

    public static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args).ApplyComponentDefaults();
        var services = builder.Services;

        // The per-request plumbing of ASP.NET Core's hosting logs (a log scope and an Activity for every announce) is
        // off unless a level is set for it: at the components' levels it writes nothing, yet costs every request.
        const string hostingDiagnostics = "Microsoft.AspNetCore.Hosting.Diagnostics";
        if (builder.Configuration[$"Logging:LogLevel:{hostingDiagnostics}"] is null)
        {
            builder.Logging.AddFilter(hostingDiagnostics, LogLevel.None);
        }

        services.AddSingleton<IValidateOptions<TrackerOptions>, TrackerOptionsValidator>();
        services.AddOptions<TrackerOptions>().BindConfiguration(TrackerOptions.SectionName).ValidateOnStart();

        // Two endpoints: h2c for gRPC and HTTP/1.1 for BEP 3 clients. Reading the options here validates them,
        // so a bad setting stops the start with the validator's message.
        services.AddSingleton<TrackerListeners>();
        services.AddComponentTls("Tracker:Tls", sp => sp.GetRequiredService<IOptions<TrackerOptions>>().Value.Tls);
        services.AddOptions<KestrelServerOptions>().Configure<IOptions<TrackerOptions>, TrackerListeners>((kestrel, options, listeners) =>
        {
            var grpc = TrackerOptionsValidator.ParseListenUrl(options.Value.GrpcUrl)!;
            var http = TrackerOptionsValidator.ParseListenUrl(options.Value.HttpUrl)!;
            // With TLS, ALPN could let both share a port; they stay two listeners so the settings mean the same either way.
            kestrel.Listen(grpc, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                if (TrackerOptionsValidator.IsHttps(options.Value.GrpcUrl))
                {
                    listen.UseComponentTls();
                }

                listeners.Grpc = listen;
            });
            kestrel.Listen(http, listen =>
            {
                listen.Protocols = HttpProtocols.Http1;
                if (TrackerOptionsValidator.IsHttps(options.Value.HttpUrl))
                {
                    listen.UseComponentTls();
                }

                listeners.Http = listen;
            });
        });

        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<TrackerOptions>>().Value;
            // Twice the most any announce gets: enough that the asker's own entries and peers expired since the last
            // sweep do not leave the policy short, and its random pick among equals stays uniform.
            return new PeerStoreOptions(
                options.EffectivePeerTtl, options.MaxSwarms, options.MaxPeersPerSwarm, options.MaxPeers, options.MaxPeersPerAddress, options.MaxPeersPerAddressPerSwarm,
                MaxCandidates: 2 * options.MaxPeersHandedOut);
        });
        services.AddSingleton(sp => new AnnounceValidator(
            TrackerOptionsValidator.ParseNetworks(sp.GetRequiredService<IOptions<TrackerOptions>>().Value.TrustedProxyNetworks)));
        services.TryAddSingleton<IAnnouncerAuthority>(sp => new AnnouncerAuthority(
            TrackerOptionsValidator.ParseNetworks(sp.GetRequiredService<IOptions<TrackerOptions>>().Value.OriginNetworks)));
        services.AddSingleton(sp => new KnownInfoHashes(sp.GetRequiredService<IOptions<TrackerOptions>>().Value.MaxKnownInfoHashes));
        services.AddSingleton<RedisPeerStoreMetrics>();
        services.AddSingleton<IPeerStore>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<TrackerOptions>>().Value;
            var storeOptions = sp.GetRequiredService<PeerStoreOptions>();
            var time = sp.GetRequiredService<TimeProvider>();
            if (!options.UsesRedis)
            {
                return new InMemoryPeerStore(storeOptions, time);
            }

            // What an announce reads back at most: as the in-memory store, twice the most any announce gets (a sample, group by
            // group in handout order, never the whole swarm).
            var settings = new RedisPeerStoreSettings(
                options.Redis.Configuration, options.Redis.KeyPrefix, 2 * options.MaxPeersHandedOut, options.Redis.CandidateCacheTtl, options.Redis.CandidateCacheEntries)
            {
                QueueTimeout = options.Redis.QueueTimeout,
            };
            return ActivatorUtilities.CreateInstance<RedisPeerStore>(sp, storeOptions, settings, time);
        });
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<TrackerOptions>>().Value;
            return new PeerHandoutPolicy(new HandoutSettings(options.MaxPeersHandedOut, options.DownloadingInterval, options.SeedingInterval, options.MinInterval, options.Locality, options.RemoteShare, options.OriginZone));
        });
        services.AddSingleton(sp => ActivatorUtilities.CreateInstance<AnnounceService>(
            sp, Random.Shared, sp.GetRequiredService<IOptions<TrackerOptions>>().Value.LoopbackQuotaExempt));
        services.AddHostedService(sp => ActivatorUtilities.CreateInstance<PeerSweeper>(
            sp, sp.GetRequiredService<IOptions<TrackerOptions>>().Value.SweepInterval));
        services.AddSingleton<TrackerMetrics>();

        services.AddSingleton(sp => new MetaInfoCache(sp.GetRequiredService<IOptions<TrackerOptions>>().Value.MetaInfoCacheBytes));
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<TrackerOptions>>().Value;
            return new OriginMetaInfoClient(CreateOriginHttpClient(options, sp.GetRequiredService<ComponentTls>()), options.OriginUrls, options.OriginReplicationFactor);
        });
        services.AddSingleton<MetaInfoService>();

        // Requests are a few hundred bytes; refuse anything larger than a generous bound before buffering it.
        services.AddGrpc(grpc => grpc.MaxReceiveMessageSize = 64 * 1024);
        services.AddOperationalEndpoints(TrackerMetrics.MeterName)
            .AddCheck<RedisPeerStoreHealthCheck>("peer-store", tags: [OperationalEndpoints.ReadyTag]);

        // grpc.health.v1 on the gRPC port, answering from the same readiness checks as /readyz (run on each call): an
        // agent's readiness is one round trip over the channel it announces on (and it warms that channel's connection).
        services.AddGrpcHealthChecks(grpc => grpc.Services.Map(string.Empty, check => check.Tags.Contains(OperationalEndpoints.ReadyTag)));

        var app = builder.Build();
        app.MapGrpcService<TrackerGrpcService>();
        app.MapGrpcHealthChecksService();
        app.MapBep3();

        app.MapOperationalEndpoints();

        app.Lifetime.ApplicationStarted.Register(() =>
        {
            // Created now rather than at the first announce, so /metrics shows the swarm and peer gauges from the start.
            _ = app.Services.GetRequiredService<TrackerMetrics>();
            var listeners = app.Services.GetRequiredService<TrackerListeners>();
            var options = app.Services.GetRequiredService<IOptions<TrackerOptions>>().Value;
            app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("P2PRegistry.Tracker")
                .Listening(listeners.GrpcEndPoint.ToString(), listeners.HttpEndPoint.ToString(), options.OriginUrl);
        });

        return app;
    }

    // One long-lived client: pooled connections, recycled so a moved origin (DNS) is picked up.
    private static HttpClient CreateOriginHttpClient(TrackerOptions options, ComponentTls tls)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = options.OriginTimeout < TimeSpan.FromSeconds(5) ? options.OriginTimeout : TimeSpan.FromSeconds(5),
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            AllowAutoRedirect = false,
        };
        // An https origin is verified against Tracker:Tls:CaPath; the tracker's client certificate goes with it.
        tls.ConfigureClient(handler);
        var baseUrl = options.OriginUrl.EndsWith('/') ? options.OriginUrl : options.OriginUrl + "/";
        return new HttpClient(handler) { BaseAddress = new Uri(baseUrl), Timeout = options.OriginTimeout };
    }
}
