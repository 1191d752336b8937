using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using P2PRegistry.Agent.Configuration;

namespace P2PRegistry.Agent;

/// <summary>Ready when the cache and download folders take writes (a full or read-only disk is not ready).</summary>
internal sealed class DataFolderHealthCheck(IOptions<AgentOptions> options) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        foreach (var folder in new[] { options.Value.CachePath, options.Value.DownloadPath })
        {
            var probe = Path.Combine(folder, ".ready-" + Guid.NewGuid().ToString("N"));
            try
            {
                await File.WriteAllBytesAsync(probe, [1], cancellationToken).ConfigureAwait(false);
                File.Delete(probe);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return HealthCheckResult.Unhealthy($"{folder} is not writable: {ex.Message}");
            }
        }

        return HealthCheckResult.Healthy();
    }
}
