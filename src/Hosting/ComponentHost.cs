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
        // https listen URLs (--urls https://…); the slim builder leaves them out. Certificates: Security/ComponentTls.
        builder.WebHost.UseKestrelHttpsConfiguration();
        return builder;
    }

    /// <summary>
    /// The runtime's switch for running socket continuations on the thread that polled the socket instead of handing
    /// each to the thread pool. Read once, when the first socket is used.
    /// </summary>
    public const string InlineSocketCompletionsVariable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>Builds and runs a component; returns the process exit code.</summary>

    public static async Task<int> RunAsync(string name, Func<WebApplication> build)
    {
        PreferInlineSocketCompletions();
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

    /// <summary>
    /// Turns inline socket completions on unless the operator set the variable (<c>0</c> turns them off). A peer
    /// connection completes a receive or a send every few KiB; dispatching each to the thread pool cost a thread
    /// wake-up apiece, which on a busy node (12 Agents on two cores in the harness) was about a second of a 26 s
    /// pull. What runs inline is kept short: the peer transport's loops and the session's parsing and bookkeeping;
    /// a completed piece's disk write goes to the thread pool, and Kestrel runs request handlers there too.
    /// </summary>
    public static void PreferInlineSocketCompletions()
    {
        if (Environment.GetEnvironmentVariable(InlineSocketCompletionsVariable) is null)
        {
            Environment.SetEnvironmentVariable(InlineSocketCompletionsVariable, "1");
        }
    }
}
