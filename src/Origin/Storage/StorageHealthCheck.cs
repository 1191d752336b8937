using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace P2PRegistry.Origin.Storage;

/// <summary>Readiness: the origin can take pushes only while its store accepts writes (a full or read-only disk cannot).</summary>
internal sealed class StorageHealthCheck : IHealthCheck
{
    private readonly StorageLayout _layout;

    public StorageHealthCheck(StorageLayout layout) => _layout = layout;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var probe = Path.Combine(_layout.Uploads, $".ready-{Guid.NewGuid():N}");
        try
        {
            File.WriteAllBytes(probe, [1]);
            File.Delete(probe);
            return Task.FromResult(HealthCheckResult.Healthy($"{_layout.Root} is writable"));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy($"{_layout.Root} is not writable: {ex.Message}"));
        }
    }
}
