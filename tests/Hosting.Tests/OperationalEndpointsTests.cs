using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace P2PRegistry.Hosting.Tests;

public class OperationalEndpointsTests
{
    [Fact]
    public async Task Endpoints_ReportLivenessReadinessAndMetrics()
    {
        var ready = false;
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddOperationalEndpoints("P2PRegistry.Nothing")
            .AddCheck("storage", () => ready ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("storage not writable"), [OperationalEndpoints.ReadyTag]);
        await using var app = builder.Build();
        app.MapOperationalEndpoints();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        using var client = new HttpClient { BaseAddress = new Uri(address) };

        var live = await client.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);

        var notReady = await client.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, notReady.StatusCode);
        Assert.Contains("storage not writable", await notReady.Content.ReadAsStringAsync());

        ready = true;
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/readyz")).StatusCode);

        var metrics = await client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        Assert.StartsWith("text/plain", metrics.Content.Headers.ContentType!.ToString());
        Assert.Contains("process_cpu_seconds_total", await metrics.Content.ReadAsStringAsync());

        await app.StopAsync();
    }

    [Fact]
    public void HealthJson_NamesEachCheckWithStatusAndDescription()
    {
        var report = new HealthReport(
            new Dictionary<string, HealthReportEntry>
            {
                ["data"] = new(HealthStatus.Healthy, null, TimeSpan.Zero, null, null),
                ["trackers \"a\""] = new(HealthStatus.Unhealthy, null, TimeSpan.Zero, new InvalidOperationException("no tracker answered"), null),
                ["disk"] = new(HealthStatus.Degraded, "92% full", TimeSpan.Zero, null, null),
            },
            TimeSpan.Zero);

        var json = System.Text.Encoding.UTF8.GetString(OperationalEndpoints.HealthJson(report));

        Assert.Equal(
            """{"status":"Unhealthy","checks":{"data":{"status":"Healthy","description":null},"trackers \u0022a\u0022":{"status":"Unhealthy","description":"no tracker answered"},"disk":{"status":"Degraded","description":"92% full"}}}""",
            json);
    }
}
