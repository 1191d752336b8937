using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace P2PRegistry.Hosting.Security;

public static class TlsHosting
{
    public const string LoggerCategory = "P2PRegistry.Tls";

    /// <summary>
    /// Registers the component's <see cref="ComponentTls"/> (from its validated options, <paramref name="options"/>) and makes it
    /// the https configuration of every https endpoint given by URL (<c>--urls https://…</c>). Explicit listeners call
    /// <see cref="UseComponentTls"/>.
    /// </summary>
    public static IServiceCollection AddComponentTls(this IServiceCollection services, string section, Func<IServiceProvider, TlsOptions> options)
    {
        services.AddSingleton(sp => new ComponentTls(
            options(sp),
            section,
            sp.GetService<TimeProvider>() ?? TimeProvider.System,
            sp.GetRequiredService<ILoggerFactory>().CreateLogger(LoggerCategory)));
        services.AddOptions<KestrelServerOptions>().Configure<IServiceProvider>((kestrel, sp) =>
            kestrel.ConfigureHttpsDefaults(https => sp.GetRequiredService<ComponentTls>().ConfigureServer(https)));
        return services;
    }

    /// <summary>https on an explicit listener, with the component's certificate (reloaded) and client-certificate rules.</summary>
    public static ListenOptions UseComponentTls(this ListenOptions listen)
    {
        ArgumentNullException.ThrowIfNull(listen);
        var tls = listen.ApplicationServices.GetRequiredService<ComponentTls>();
        return listen.UseHttps(https => tls.ConfigureServer(https));
    }
}
