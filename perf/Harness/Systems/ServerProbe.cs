using System.Globalization;
using P2PRegistry.Harness.Lab;

namespace P2PRegistry.Harness.Systems;

/// <summary>Small HTTP checks run with curl on a lab host (the harness itself cannot reach into namespaces).</summary>
internal static class ServerProbe
{
    /// <summary>Polls <paramref name="url"/> from <paramref name="host"/> until it answers with a status below 500.</summary>
    public static async Task WaitForHttpAsync(LabHost host, string url, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var result = await host.RunAsync("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "2", url], cancellationToken).ConfigureAwait(false);
            if (int.TryParse(result.StandardOutput.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var code) && code is > 0 and < 500)
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{url} did not answer within {timeout.TotalSeconds:0} s (from {host.Name}).");
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
    }
}
