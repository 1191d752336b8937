using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;

namespace P2PRegistry.Hosting;

/// <summary>
/// <c>&lt;program&gt; healthcheck [--Key=value …]</c>: asks the component already running on this host for its
/// <c>/readyz</c> and exits 0 on 200, else 1. A container's HEALTHCHECK runs it, because slim base images have no
/// curl or wget. It reads the same configuration the component reads (appsettings.json, environment variables,
/// the extra arguments), so a listener moved with <c>Agent__RegistryUrl</c> is probed where it now is.
/// </summary>
public static class HealthProbe
{
    public const string Command = "healthcheck";

    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(5);

    public static bool IsRequested(IReadOnlyList<string> args) => args.Count > 0 && args[0] == Command;

    /// <summary>Runs the probe for <c>args = ["healthcheck", …]</c>; <paramref name="listenUrl"/> picks the component's HTTP listener from its configuration.</summary>
    public static async Task<int> RunAsync(string[] args, Func<IConfiguration, string> listenUrl, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(listenUrl);
        ArgumentNullException.ThrowIfNull(output);
        var configuration = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args[1..] }).Configuration;
        var configured = listenUrl(configuration);
        if (ReadyUrl(configured) is not { } url)
        {
            await output.WriteLineAsync($"unhealthy: cannot probe listen URL '{configured}'").ConfigureAwait(false);
            return 1;
        }

        return await ProbeAsync(url, DefaultTimeout, output).ConfigureAwait(false);
    }

    /// <summary>GET <paramref name="url"/>: 0 when it answers 200 within <paramref name="timeout"/>, else 1, with one line saying why.</summary>
    public static async Task<int> ProbeAsync(Uri url, TimeSpan timeout, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(url);
        ArgumentNullException.ThrowIfNull(output);
        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false, ConnectTimeout = timeout }) { Timeout = timeout };
        try
        {
            using var response = await client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead).ConfigureAwait(false);
            if (response.StatusCode == System.Net.HttpStatusCode.OK)
            {
                await output.WriteLineAsync($"healthy: {url} answered 200").ConfigureAwait(false);
                return 0;
            }

            await output.WriteLineAsync($"unhealthy: {url} answered {(int)response.StatusCode}").ConfigureAwait(false);
            return 1;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            await output.WriteLineAsync($"unhealthy: {url}: {ex.Message}").ConfigureAwait(false);
            return 1;
        }
    }

    /// <summary>
    /// The <c>/readyz</c> URL on this host for a component listening on <paramref name="listenUrl"/> (the first of a
    /// <c>;</c>-separated list): a wildcard host (<c>0.0.0.0</c>, <c>[::]</c>, <c>+</c>, <c>*</c>) becomes
    /// <c>127.0.0.1</c>, which a wildcard listener also accepts. Null when it is no <c>http://</c> URL.
    /// </summary>
    public static Uri? ReadyUrl(string? listenUrl)
    {
        var first = listenUrl?.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
        const string Scheme = "http://";
        if (first is null || !first.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var authority = first[Scheme.Length..].Split('/')[0];
        var portSeparator = authority.LastIndexOf(':');
        var host = portSeparator > authority.LastIndexOf(']') ? authority[..portSeparator] : authority;
        var port = portSeparator > authority.LastIndexOf(']') ? authority[(portSeparator + 1)..] : "80";
        if (host is "+" or "*" or "0.0.0.0" or "[::]")
        {
            host = "127.0.0.1";
        }

        return Uri.TryCreate($"{Scheme}{host}:{port}/readyz", UriKind.Absolute, out var url) && url.Port > 0 ? url : null;
    }
}
