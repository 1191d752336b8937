using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace P2PRegistry.Swarm.Transport;

public static class SwarmHostingExtensions
{
    /// <summary>
    /// Registers the engine and its metrics. The host must also register an
    /// <see cref="Tracking.ITrackerClient"/>. Options bind from <paramref name="section"/> when given.
    /// </summary>
    public static IServiceCollection AddSwarm(this IServiceCollection services, IConfiguration? section = null, Action<SwarmOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<SwarmOptions>();
        if (section is not null)
        {
            options.Bind(section);
        }

        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.Validate(o => !o.Validate().Any(), "Swarm options are invalid; see SwarmOptions.Validate.").ValidateOnStart();
        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<SwarmMetrics>();
        services.TryAddSingleton<SwarmEngine>();
        return services;
    }

    /// <summary>
    /// Serves the BitTorrent peer protocol on <paramref name="endPoint"/> (asked for when the host starts, so it
    /// can come from validated options) from host start to host stop; the engine announces the bound port.
    /// </summary>
    public static IServiceCollection AddSwarmPeerListener(this IServiceCollection services, Func<IServiceProvider, IPEndPoint> endPoint)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(endPoint);
        services.TryAddSingleton<PeerSocketListener>();
        services.AddHostedService(sp => new PeerListenerService(
            sp.GetRequiredService<PeerSocketListener>(),
            sp.GetRequiredService<SwarmEngine>(),
            () => endPoint(sp),
            sp.GetRequiredService<ILogger<PeerListenerService>>()));
        return services;
    }
}
