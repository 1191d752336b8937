using System.Net;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using P2PRegistry.Agent.Blobs;
using P2PRegistry.Agent.Cache;
using P2PRegistry.Agent.Configuration;
using P2PRegistry.Agent.Diagnostics;
using P2PRegistry.Agent.Manifests;
using P2PRegistry.Agent.Memory;
using P2PRegistry.Agent.Readiness;
using P2PRegistry.Agent.Registry;
using P2PRegistry.Agent.Tracking;
using P2PRegistry.Hosting;
using P2PRegistry.Hosting.Configuration;
using P2PRegistry.Hosting.Security;
using P2PRegistry.Hosting.Storage;
using P2PRegistry.Swarm;
using P2PRegistry.Swarm.Tracking;
using P2PRegistry.Swarm.Transport;

namespace P2PRegistry.Agent;

/// <summary>
/// Builds the agent: a read-only registry mirror for containerd on the node (registry v2 pull API), whose
/// blob misses are fetched through the swarm, cached, streamed, and seeded; plus the BitTorrent peer port.
/// </summary>
public static class AgentApp
{
    /// <summary>The mirror's listener as configured (<c>Agent:RegistryUrl</c>), for <see cref="HealthProbe"/>.</summary>
    public static string ListenUrl(IConfiguration configuration) =>
        configuration[$"{AgentOptions.SectionName}:{nameof(AgentOptions.RegistryUrl)}"] is { Length: > 0 } url ? url : AgentOptions.DefaultRegistryUrl;

    /// <param name="args">Command line, e.g. <c>--Agent:RegistryUrl=http://127.0.0.1:0 --Agent:DataPath=/tmp/x</c>.</param>
    /// <param name="configureServices">Lets tests replace services (the MetaInfo source, the tracker client).</param>
    public static WebApplication Build(string[] args, Action<IServiceCollection>? configureServices = null)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        builder.ApplyComponentDefaults();
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
        builder.Logging.AddFilter("Grpc", LogLevel.Warning);
        builder.Logging.AddFilter("System.Net.Http", LogLevel.Warning);

        // The health check service logs every unhealthy check as an error (each kubelet probe while not ready); the
        // readiness monitor logs why the agent is not ready, once per probe round.
        builder.Logging.AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks", LogLevel.Critical);

        AddSettingsFile(builder.Configuration);
        var section = builder.Configuration.GetSection(AgentOptions.SectionName);

        // The listeners are needed before the options are validated; a bad value here is reported by the
        // validation below, so fall back to the defaults rather than failing with a less clear message.
        var settings = section.Get<AgentOptions>() ?? new AgentOptions();
        // The registry URL needs a literal IP address (node-local loopback by default): validated below.
        var registryListener = new RegistryListener();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            if (Uri.TryCreate(settings.RegistryUrl, UriKind.Absolute, out var registry) && IPAddress.TryParse(registry.Host.Trim('[', ']'), out var registryAddress))
            {
                kestrel.Listen(registryAddress, registry.Port, listen =>
                {
                    if (registry.Scheme == Uri.UriSchemeHttps)
                    {
                        listen.UseComponentTls();
                    }

                    registryListener.Listen = listen;
                });
            }
            else
            {
                kestrel.Listen(IPAddress.Loopback, new Uri(AgentOptions.DefaultRegistryUrl).Port, listen => registryListener.Listen = listen);
            }
        });

        var services = builder.Services;
        services.AddOptions<AgentOptions>().Bind(section).ValidateAtStart(section.Path, o => o.Validate());
        services.AddComponentTls("Agent:Tls", sp => sp.GetRequiredService<IOptions<AgentOptions>>().Value.Tls);
        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.AddSingleton<AgentMetrics>();
        services.AddSingleton(sp =>
        {
            var metrics = sp.GetRequiredService<AgentMetrics>();
            var logger = sp.GetRequiredService<ILoggerFactory>().CreateLogger("P2PRegistry.Agent.Diagnostics.DiskFullReporter");
            return new DiskFullReporter(
                sp.GetRequiredService<IOptions<AgentOptions>>().Value.DataPath,
                sp.GetRequiredService<TimeProvider>(),
                metrics.DiskFull,
                (path, reason, suppressed) => AgentLog.DiskFull(logger, path, reason, suppressed));
        });
        services.AddSwarm(builder.Configuration.GetSection(SwarmOptions.SectionName), swarm =>
        {
            swarm.PeerPort = settings.PeerPort;
            swarm.Zone = settings.Zone ?? string.Empty;
            if (settings.IngressBytesPerSecond > 0)
            {
                swarm.IngressBytesPerSecond = settings.IngressBytesPerSecond;
            }

            if (settings.EgressBytesPerSecond > 0)
            {
                swarm.EgressBytesPerSecond = settings.EgressBytesPerSecond;
            }
        });

        // One channel per tracker; each blob's tracker by rendezvous hashing, failover, passive health (Tracking/).
        services.AddSingleton<TrackingMetrics>();
        services.AddSingleton(sp => new TrackerDirectory(
            sp.GetRequiredService<IOptions<AgentOptions>>().Value.EffectiveTrackerUrls,
            url => ConnectTracker(sp, url),
            new TrackerHealth(sp.GetRequiredService<TimeProvider>(), TrackerSkipTime, 3 * TrackerSkipTime),
            sp.GetRequiredService<ILogger<TrackerDirectory>>(),
            builder.Configuration));
        services.TryAddSingleton<IMetaInfoSource, FailoverMetaInfoSource>();
        services.TryAddSingleton<ITrackerClient, FailoverTrackerClient>();
        services.AddSingleton(sp =>
        {
            var timeout = sp.GetRequiredService<IOptions<AgentOptions>>().Value.OriginTimeout;
            return new OriginManifestClient(OriginHttpClient(sp, timeout), timeout);
        });
        services.AddSingleton(sp =>
        {
            var timeout = sp.GetRequiredService<IOptions<AgentOptions>>().Value.OriginTimeout;
            return new OriginListingClient(OriginHttpClient(sp, timeout), timeout);
        });

        // Blobs pulled through by the origin stream for as long as they take: no overall timeout here, the
        // fetcher bounds the wait for headers and for each read by OriginTimeout.
        services.AddSingleton(sp => new OriginBlobClient(OriginHttpClient(sp, Timeout.InfiniteTimeSpan)));
        services.AddSingleton(sp => new ManifestCache(sp.GetRequiredService<IOptions<AgentOptions>>().Value.ManifestPath, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => new BlobCache(sp.GetRequiredService<IOptions<AgentOptions>>().Value.CachePath, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<GcMetrics>();
        services.AddSingleton<DiskCollector>();
        services.AddSingleton<OriginBlobStreamer>();
        services.AddSingleton<MetaInfoShelf>();
        services.AddSingleton<CacheVerifier>();
        services.AddSingleton<PartialDownloads>();
        services.AddSingleton<BlobFetcher>();
        services.AddSingleton<MirrorHandler>();
        services.AddSingleton(registryListener);
        services.AddSingleton<StartupWarmup>();
        services.AddSingleton<ReadinessMonitor>();

        // Hosted services stop in reverse order: the peer port closes (and its connections end) before
        // AgentStartup disposes the engine, so no connection arrives at a stopped engine.
        services.AddHostedService<AgentStartup>();
        services.AddHostedService(sp => sp.GetRequiredService<ReadinessMonitor>());
        services.AddHostedService<IdleSeedCloser>();
        services.AddSwarmPeerListener(sp =>
        {
            var options = sp.GetRequiredService<IOptions<AgentOptions>>().Value;
            return new IPEndPoint(IPAddress.Parse(options.PeerAddress), options.PeerPort);
        });

        // Registered after AgentStartup, so it stops before AgentStartup disposes the fetcher, the shelf and the engine.
        services.AddHostedService(sp => sp.GetRequiredService<DiskCollector>());
        services.AddHostedService(sp => new IdleMemoryTrimmer(
            () => (sp.GetRequiredService<BlobFetcher>().ActiveCount, sp.GetRequiredService<BlobFetcher>().StartedCount),
            IdleMemoryTrimmer.MarkIdle, IdleMemoryTrimmer.TrimProcessMemory,
            sp.GetRequiredService<IOptions<AgentOptions>>().Value.IdleTrimAfter, sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<IdleMemoryTrimmer>>()));

        services.AddOperationalEndpoints(AgentMetrics.MeterName, SwarmMetrics.MeterName)
            .AddCheck<DataFolderHealthCheck>("data", tags: [OperationalEndpoints.ReadyTag])
            .Add(new HealthCheckRegistration("trackers", sp => sp.GetRequiredService<ReadinessMonitor>(), failureStatus: null, tags: [OperationalEndpoints.ReadyTag]));
        configureServices?.Invoke(services);
        AnnounceWatch.Decorate(services);

        var app = builder.Build();

        // No response compression: containerd sends Accept-Encoding: gzip, and re-encoded bytes would no
        // longer hash to their digest. The registry is matched on the raw target, not by routing, so that
        // "/v2/%2e%2e/x" is refused as NAME_INVALID rather than resolved to "/x".
        app.Use((context, next) => MirrorHandler.IsRegistryRequest(context)
            ? context.RequestServices.GetRequiredService<MirrorHandler>().HandleAsync(context)
            : next(context));
        app.MapOperationalEndpoints();
        return app;
    }

    /// <summary>
    /// <c>Agent:SettingsFile</c>: a JSON file below the environment and the command line, polled for changes (a
    /// Kubernetes ConfigMap volume swaps a symlink, which file-system events can miss). A missing file is reported by
    /// the options' validation.
    /// </summary>
    private static void AddSettingsFile(ConfigurationManager configuration)
    {
        if (configuration[$"{AgentOptions.SectionName}:{nameof(AgentOptions.SettingsFile)}"] is not { Length: > 0 } path || !File.Exists(path))
        {
            return;
        }

        var full = Path.GetFullPath(path);
        var provider = new Microsoft.Extensions.FileProviders.PhysicalFileProvider(Path.GetDirectoryName(full)!)
        {
            UsePollingFileWatcher = true,
            UseActivePolling = true,
        };
        ((IConfigurationBuilder)configuration).Sources.Insert(0, new Microsoft.Extensions.Configuration.Json.JsonConfigurationSource
        {
            FileProvider = provider,
            Path = Path.GetFileName(full),
            Optional = false,
            ReloadOnChange = true,
            ReloadDelay = 250,
        });
    }

    /// <summary>How long a tracker that failed is skipped at first (doubling up to three times as long while it keeps failing).</summary>
    internal static readonly TimeSpan TrackerSkipTime = TimeSpan.FromSeconds(10);

    private static TrackerEndpoint ConnectTracker(IServiceProvider services, string url)
    {
        var options = services.GetRequiredService<IOptions<AgentOptions>>().Value;
        var timeout = services.GetRequiredService<IOptions<SwarmOptions>>().Value.TrackerTimeout;
        var time = services.GetRequiredService<TimeProvider>();
        var handler = new SocketsHttpHandler { ConnectTimeout = options.MissTimeout, EnableMultipleHttp2Connections = true };
        services.GetRequiredService<ComponentTls>().ConfigureClient(handler);
        var channel = GrpcChannel.ForAddress(url, new GrpcChannelOptions
        {
            HttpHandler = handler,

            // The engine backs announces off per blob (Swarm:AnnounceBackoffCap); the channel's own reconnect back-off
            // (up to 120 s by default) would keep failing them for that long after the tracker is back.
            MaxReconnectBackoff = TimeSpan.FromSeconds(5),
            LoggerFactory = services.GetRequiredService<ILoggerFactory>(),
        });
        var client = new Contracts.Tracker.Tracker.TrackerClient(channel);
        return new TrackerEndpoint(
            url,
            // The labels the agent started with, also for a tracker a settings reload adds: changing them needs a restart.
            new GrpcTrackerClient(client, TrackerRole.Agent, timeout, time, Labels(options)),
            // The tracker may have to ask the origin first (its own OriginTimeout), then answer.
            new GrpcMetaInfoSource(client, options.OriginTimeout + timeout, time),
            channel,
            new GrpcTrackerProbe(new Grpc.Health.V1.Health.HealthClient(channel), ReadinessMonitor.ProbeTimeout, time));
    }

    private static TopologyLabels Labels(AgentOptions options) => new(options.Zone, options.Rack);

    /// <summary>A client for the origin: connecting may take no longer than a miss may (containerd waits on it).</summary>

    private static HttpClient OriginHttpClient(IServiceProvider services, TimeSpan timeout)
    {
        var options = services.GetRequiredService<IOptions<AgentOptions>>().Value;
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = options.MissTimeout,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
        };
        services.GetRequiredService<ComponentTls>().ConfigureClient(handler);
        // A cluster of origins: the base address is the first; the failover handler picks the origin per request.
        var origins = options.OriginUrls.Count > 0 ? options.OriginUrls : [options.OriginUrl];
        HttpMessageHandler chain = origins.Count > 1
            ? new Origins.OriginFailoverHandler(origins, handler, services.GetService<TimeProvider>() ?? TimeProvider.System)
            : handler;
        return new HttpClient(chain)
        {
            BaseAddress = new Uri(origins[0].TrimEnd('/') + "/"),
            Timeout = timeout,
        };
    }

    /// <summary>The registry API's endpoint; Kestrel writes the bound port into it (port 0 in tests).</summary>
    internal sealed class RegistryListener
    {
        public ListenOptions? Listen { get; set; }

        public int Port => Listen?.IPEndPoint?.Port ?? 0;
    }
}
