using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using P2PRegistry.Hosting;
using P2PRegistry.Hosting.Security;
using P2PRegistry.Hosting.Storage;
using P2PRegistry.Origin.Cluster;
using P2PRegistry.Origin.Configuration;
using P2PRegistry.Origin.Diagnostics;
using P2PRegistry.Origin.P2P;
using P2PRegistry.Origin.Registry;
using P2PRegistry.Origin.Seeding;
using P2PRegistry.Origin.Storage;
using P2PRegistry.Origin.Uploads;
using P2PRegistry.Origin.Upstream;
using P2PRegistry.Swarm;
using P2PRegistry.Swarm.Tracking;
using P2PRegistry.Swarm.Transport;

namespace P2PRegistry.Origin;

/// <summary>Builds the origin: an OCI registry (push and pull) that also serves each blob's metainfo.</summary>
public static class OriginApp
{
    public const string DefaultUrl = "http://127.0.0.1:5000";

    /// <summary>The registry's listener as configured (<c>--urls</c>, <c>ASPNETCORE_URLS</c>), for <see cref="HealthProbe"/>.</summary>
    public static string ListenUrl(IConfiguration configuration) =>
        configuration[WebHostDefaults.ServerUrlsKey] is { Length: > 0 } urls ? urls : DefaultUrl;

    /// <param name="args">Command line, e.g. <c>--urls http://127.0.0.1:0 --Origin:StoragePath=/tmp/x</c>.</param>
    /// <param name="configureServices">Lets tests replace services (e.g. a fake <see cref="TimeProvider"/>).</param>
    public static WebApplication Build(string[] args, Action<IServiceCollection>? configureServices = null)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey]))
        {
            // Safe default: loopback only. --urls (or ASPNETCORE_URLS) overrides.
            builder.WebHost.UseUrls(DefaultUrl);
        }

        builder.ApplyComponentDefaults();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // The request body limit is lifted per request by the upload and manifest handlers (with their
            // own limits); header timeout and minimum body data rate keep Kestrel's defaults (30 s,
            // 240 B/s after 5 s), which cut off stalled clients without hurting slow links.
        });

        // Per-request lines from the framework would drown the origin's own log; its events say what happened.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        // A failed start is reported by Program as one line naming the bad setting, not as a logged stack trace.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);

        var services = builder.Services;
        services.AddOptions<OriginOptions>()
            .Bind(builder.Configuration.GetSection(OriginOptions.SectionName))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<OriginOptions>>(new OriginOptionsValidator(ListenUrl(builder.Configuration)));
        // https for every https URL in --urls: the registry API and the metainfo endpoint share the listener.
        services.AddComponentTls("Origin:Tls", sp => sp.GetRequiredService<IOptions<OriginOptions>>().Value.Tls);
        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.AddSingleton<OriginMetrics>();
        services.AddSingleton(sp => new StorageLayout(sp.GetRequiredService<IOptions<OriginOptions>>().Value.StoragePath));
        services.AddSingleton(sp =>
        {
            var metrics = sp.GetRequiredService<OriginMetrics>();
            var logger = sp.GetRequiredService<ILoggerFactory>().CreateLogger("P2PRegistry.Origin.Storage.DiskFull");
            return new DiskFullReporter(
                sp.GetRequiredService<IOptions<OriginOptions>>().Value.StoragePath,
                sp.GetRequiredService<TimeProvider>(),
                metrics.DiskFull,
                (path, reason, suppressed) => OriginLog.StorageFull(logger, path, reason, suppressed));
        });
        services.AddSingleton<BlobStore>();
        services.AddSingleton<RepositoryStore>();
        services.AddSingleton<UploadManager>();
        services.AddSingleton<PushAuthenticator>();
        services.AddHostedService<Authorization.PushAuthenticationStartup>();
        services.AddSingleton<UpstreamCatalog>();
        services.AddSingleton<BlobFills>();
        services.AddSingleton<UpstreamManifests>();
        services.AddSingleton<NotFoundCache>();
        services.AddSingleton<RegistryHandler>();
        services.AddOriginCluster();
        services.AddHostedService<StorageStartup>();
        services.AddHostedService<UploadExpiryService>();
        // Garbage collection (Collection/): the store's lock, the pins writers hold, pulled-through last use, the pass.
        services.AddHostedService<Collection.StorageLock>();
        services.AddSingleton<Collection.CollectionGate>();
        services.AddSingleton<Collection.PullThroughUsage>();
        services.AddSingleton<Collection.CollectionMetrics>();
        services.AddSingleton<Collection.GarbageCollectorService>();
        services.AddHostedService(sp => sp.GetRequiredService<Collection.GarbageCollectorService>());
        // Seeding: the swarm engine serves every stored blob from the peer port (Origin:Peer), on demand.
        services.AddSwarm(builder.Configuration.GetSection(SwarmOptions.SectionName));
        services.AddSingleton<ITrackerClient, NoAnnounceTrackerClient>();
        services.AddSingleton<SeedIndex>();
        services.AddSingleton<PeerListener>();
        services.AddSingleton<IdleSeedReaper>();
        services.AddHostedService(sp => sp.GetRequiredService<IdleSeedReaper>());
        // Before the peer port opens: a stored blob found corrupt while seeding leaves the store (Seeding/SeedQuarantine).
        services.AddSingleton<SeedQuarantine>();
        services.AddHostedService(sp => sp.GetRequiredService<SeedQuarantine>());
        services.AddHostedService(sp => sp.GetRequiredService<PeerListener>());
        services.AddOperationalEndpoints(OriginMetrics.MeterName, SwarmMetrics.MeterName)
            .AddCheck<StorageHealthCheck>("storage", tags: [OperationalEndpoints.ReadyTag]);
        configureServices?.Invoke(services);

        var app = builder.Build();

        // No response compression anywhere: containerd sends Accept-Encoding: gzip, and a re-encoded
        // blob or manifest would no longer hash to its digest.
        // The registry is matched on the raw request target, not by routing: the server resolves "/v2/%2e%2e/x"
        // to "/x" before routing sees it, and such a request must be refused as NAME_INVALID, not missed.
        app.Use((context, next) => RegistryHandler.IsRegistryRequest(context)
            ? context.RequestServices.GetRequiredService<RegistryHandler>().HandleAsync(context)
            : next(context));
        app.MapMethods(MetaInfoEndpoint.Route, [HttpMethods.Get, HttpMethods.Head], context =>
            MetaInfoEndpoint.HandleAsync(
                context,
                context.Request.RouteValues["digest"] as string ?? "",
                context.RequestServices.GetRequiredService<BlobStore>(),
                context.RequestServices.GetRequiredService<PeerListener>(),
                context.RequestServices.GetRequiredService<SeedIndex>(),
                context.RequestServices.GetRequiredService<OriginCluster>()));
        ClusterEndpoints.Map(app);

        // /healthz (live), /readyz (storage writable), /metrics (Prometheus).
        app.MapOperationalEndpoints();
        return app;
    }
}
