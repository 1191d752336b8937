using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace P2PRegistry.Hosting;

/// <summary>What every component (origin, tracker, agent) shares at start: logging, Kestrel defaults, and
/// turning configuration and bind errors into one clear line and a non-zero exit code instead of a stack trace.</summary>
public static class ComponentHost
{
    public const int ExitConfigurationError = 2;
    public const int ExitBindError = 3;

    public static WebApplicationBuilder ApplyComponentDefaults(this WebApplicationBuilder builder)
    {
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(options =>
        {
            options.SingleLine = true;
            options.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
            options.UseUtcTimestamp = true;
        });
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.AddServerHeader = false);
        return builder;
    }

    /// <summary>Builds and runs a component; returns the process exit code.</summary>
    public static async Task<int> RunAsync(string name, Func<WebApplication> build)
    {
        try
        {
            var app = build();
            await app.RunAsync().ConfigureAwait(false);
            return 0;
        }
        catch (OptionsValidationException ex)
        {
            await Console.Error.WriteLineAsync($"{name}: invalid configuration:").ConfigureAwait(false);
            foreach (var failure in ex.Failures)
            {
                await Console.Error.WriteLineAsync($"  {failure}").ConfigureAwait(false);
            }

            return ExitConfigurationError;
        }
        catch (IOException ex) when (ex.InnerException is SocketException or AddressInUseException)
        {
            await Console.Error.WriteLineAsync($"{name}: cannot listen: {ex.Message}").ConfigureAwait(false);
            return ExitBindError;
        }
    }
}
