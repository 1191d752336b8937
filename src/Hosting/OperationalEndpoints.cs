using System.Buffers;
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
        // A RequestDelegate, not a lambda with injected parameters: that overload builds its handler by reflection.
        endpoints.MapGet("/metrics", context =>
        {
            context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            return context.Response.WriteAsync(context.RequestServices.GetRequiredService<PrometheusExporter>().Scrape(), context.RequestAborted);
        });
        return endpoints;
    }

    /// <summary>
    /// <c>{"status":"Healthy","checks":{"data":{"status":"Healthy","description":null}}}</c>, written directly (no
    /// reflection over the report's types).
    /// </summary>
    internal static Task WriteHealthAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        return context.Response.Body.WriteAsync(HealthJson(report), context.RequestAborted).AsTask();
    }

    internal static byte[] HealthJson(HealthReport report)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("status", report.Status.ToString());
            json.WriteStartObject("checks");
            foreach (var (name, entry) in report.Entries)
            {
                json.WriteStartObject(name);
                json.WriteString("status", entry.Status.ToString());
                json.WriteString("description", entry.Description ?? entry.Exception?.Message);
                json.WriteEndObject();
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}
