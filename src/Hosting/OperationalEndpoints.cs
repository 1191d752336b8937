using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using P2PRegistry.Hosting.Metrics;

namespace P2PRegistry.Hosting;

public static class OperationalEndpoints
{
    /// <summary>Health checks with this tag decide <c>/readyz</c>.</summary>
    public const string ReadyTag = "ready";

    /// <summary>
    /// Registers the Prometheus exporter for the given meter prefixes and health checks; add readiness
    /// checks to the returned builder with <see cref="ReadyTag"/>.
    /// </summary>
    public static IHealthChecksBuilder AddOperationalEndpoints(this IServiceCollection services, params string[] meterPrefixes)
    {
        services.AddSingleton(_ => new PrometheusExporter(meterPrefixes));
        return services.AddHealthChecks();
    }

    /// <summary>
    /// <c>/healthz</c>: the process serves requests (liveness, no checks). <c>/readyz</c>: every check tagged
    /// <see cref="ReadyTag"/> passes (200, else 503), with a JSON body naming each check.
    /// <c>/metrics</c>: Prometheus text format.
    /// </summary>
    public static IEndpointRouteBuilder MapOperationalEndpoints(this IEndpointRouteBuilder endpoints)
    {
        // The exporter only counts what it hears after it starts listening: create it now, not at the first scrape.
        _ = endpoints.ServiceProvider.GetRequiredService<PrometheusExporter>();
        endpoints.MapHealthChecks("/healthz", new HealthCheckOptions
        {
            Predicate = _ => false,
            ResponseWriter = WriteHealthAsync,
        });
        endpoints.MapHealthChecks("/readyz", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(ReadyTag),
            ResponseWriter = WriteHealthAsync,
        });
        endpoints.MapGet("/metrics", (PrometheusExporter exporter) =>
            Results.Text(exporter.Scrape(), "text/plain; version=0.0.4; charset=utf-8"));
        return endpoints;
    }

    private static Task WriteHealthAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        var body = new Dictionary<string, object>
        {
            ["status"] = report.Status.ToString(),
            ["checks"] = report.Entries.ToDictionary(
                e => e.Key,
                e => new { status = e.Value.Status.ToString(), description = e.Value.Description ?? e.Value.Exception?.Message }),
        };
        return context.Response.WriteAsync(JsonSerializer.Serialize(body));
    }
}
