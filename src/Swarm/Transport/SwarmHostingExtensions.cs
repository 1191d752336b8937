using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace P2PRegistry.Swarm.Transport;

public static class SwarmHostingExtensions
{
    /// <summary>
    /// Registers the engine, its metrics and the peer connection handler. The host must also register an
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
        services.TryAddSingleton<PeerConnectionHandler>();
        return services;
    }

    /// <summary>Serves the BitTorrent peer protocol on this Kestrel endpoint.</summary>
    public static ListenOptions UseSwarmPeerProtocol(this ListenOptions listenOptions)
    {
        ArgumentNullException.ThrowIfNull(listenOptions);
        listenOptions.UseConnectionHandler<PeerConnectionHandler>();
        return listenOptions;
    }
}
