using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using P2PRegistry.Hosting.Security;

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
        AddPeerTls(services, section?.GetSection(TlsSection));
        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<SwarmMetrics>();
        services.TryAddSingleton<SwarmEngine>();
        return services;
    }

    /// <summary>The peer port's TLS settings, under the swarm's section: <c>Swarm:Tls</c>.</summary>
    public const string TlsSection = "Tls";

    /// <summary>
    /// <c>Swarm:Tls</c> with a certificate turns TLS on for every peer connection, accepted and dialled: this engine's
    /// certificate (<c>CertificatePath</c>/<c>KeyPath</c>, reloaded) is presented both ways, and the other side's must chain
    /// to <c>CaPath</c>. Off without a certificate: standard BitTorrent clients cannot speak TLS.
    /// </summary>
    private static void AddPeerTls(IServiceCollection services, IConfiguration? section)
    {
        // A plain call on a non-null section: the configuration binder's source generator does not intercept `section?.Get`.
        if (section is null || section.Get<TlsOptions>() is not { } settings)
        {
            return;
        }

        // Any key under Swarm:Tls is checked at start: a section that would leave TLS off (no certificate) is an error.
        var keys = section.GetChildren().Select(child => child.Path).ToList();
        services.AddSingleton<IValidateOptions<SwarmOptions>>(new PeerTlsValidator(settings, keys));
        if (!settings.HasServerCertificate)
        {
            return;
        }

        services.TryAddSingleton(sp =>
        {
            const string Name = SwarmOptions.SectionName + ":" + TlsSection;
            if (string.IsNullOrEmpty(settings.CaPath) && string.IsNullOrEmpty(settings.ClientCaPath))
            {
                throw new OptionsValidationException(Name, typeof(TlsOptions), [$"{Name}:CaPath must name the CA bundle peers' certificates chain to."]);
            }

            var tls = new ComponentTls(settings, Name, sp.GetService<TimeProvider>() ?? TimeProvider.System, sp.GetRequiredService<ILoggerFactory>().CreateLogger(TlsHosting.LoggerCategory));
            return new PeerTls(tls.PeerServerOptions, peer => tls.PeerClientOptions(peer.Address.ToString()));
        });
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

    /// <summary>The errors of a <c>Swarm:Tls</c> section that has any key set (<paramref name="keys"/>, full paths).</summary>
    internal static List<string> PeerTlsErrors(TlsOptions settings, IReadOnlyList<string> keys)
    {
        const string Name = SwarmOptions.SectionName + ":" + TlsSection;
        var errors = new List<string>();
        if (!settings.HasServerCertificate)
        {
            errors.Add($"{Name} sets {string.Join(", ", keys)} but not {Name}:CertificatePath: peer-port TLS is on only with {Name}:CertificatePath and {Name}:KeyPath. Set them, or remove the {Name} section.");
        }

        if (string.IsNullOrEmpty(settings.CaPath) && string.IsNullOrEmpty(settings.ClientCaPath))
        {
            errors.Add($"{Name}:CaPath must name the CA bundle peers' certificates chain to.");
        }

        errors.AddRange(settings.Validate(Name).Where(error => !errors.Contains(error)));
        return errors;
    }

    private sealed class PeerTlsValidator(TlsOptions settings, IReadOnlyList<string> keys) : IValidateOptions<SwarmOptions>
    {
        public ValidateOptionsResult Validate(string? name, SwarmOptions options)
        {
            var errors = PeerTlsErrors(settings, keys);
            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }
    }
}
