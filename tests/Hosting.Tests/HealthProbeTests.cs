using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace P2PRegistry.Hosting.Tests;

public sealed class HealthProbeTests
{
    [Theory]
    [InlineData("http://0.0.0.0:5050", "http://127.0.0.1:5050/readyz")]
    [InlineData("http://+:5000", "http://127.0.0.1:5000/readyz")]
    [InlineData("http://*:5000", "http://127.0.0.1:5000/readyz")]
    [InlineData("http://[::]:7000", "http://127.0.0.1:7000/readyz")]
    [InlineData("http://[::1]:7000", "http://[::1]:7000/readyz")]
    [InlineData("http://127.0.0.1:5000/", "http://127.0.0.1:5000/readyz")]
    [InlineData("http://localhost:5000", "http://localhost:5000/readyz")]
    [InlineData(" http://10.0.0.5:5000 ; http://127.0.0.1:6000", "http://10.0.0.5:5000/readyz")]
    [InlineData("http://0.0.0.0", "http://127.0.0.1/readyz")]
    public void ReadyUrl_ListenUrl_ProbesTheSameListenerOnThisHost(string listenUrl, string expected)
    {
        Assert.Equal(new Uri(expected), HealthProbe.ReadyUrl(listenUrl));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("https://127.0.0.1:5000")]
    [InlineData("127.0.0.1:5000")]
    [InlineData("http://0.0.0.0:0")]
    [InlineData("http://0.0.0.0:notaport")]
    public void ReadyUrl_NothingToProbe_IsNull(string? listenUrl)
    {
        Assert.Null(HealthProbe.ReadyUrl(listenUrl));
    }

    [Fact]
    public void IsRequested_OnlyAsTheFirstArgument()
    {
        Assert.True(HealthProbe.IsRequested(["healthcheck"]));
        Assert.True(HealthProbe.IsRequested(["healthcheck", "--Agent:RegistryUrl=http://127.0.0.1:1"]));
        Assert.False(HealthProbe.IsRequested([]));
        Assert.False(HealthProbe.IsRequested(["--urls", "healthcheck"]));
    }

    [Fact]
    public async Task RunAsync_ReadyThenNotReadyThenGone_ExitsZeroThenOne()
    {
        var ready = true;
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddOperationalEndpoints("P2PRegistry.Nothing")
            .AddCheck("data", () => ready ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("not writable"), [OperationalEndpoints.ReadyTag]);
        var app = builder.Build();
        app.MapOperationalEndpoints();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var port = new Uri(address).Port;

        // The listener comes from the configuration the probe reads, here its extra arguments, as a component's would.
        string[] args = ["healthcheck", $"--Test:Url=http://0.0.0.0:{port}"];
        var output = new StringWriter();
        Assert.Equal(0, await HealthProbe.RunAsync(args, configuration => configuration["Test:Url"]!, output));
        Assert.Contains($"healthy: http://127.0.0.1:{port}/readyz answered 200", output.ToString(), StringComparison.Ordinal);

        ready = false;
        output = new StringWriter();
        Assert.Equal(1, await HealthProbe.RunAsync(args, configuration => configuration["Test:Url"]!, output));
        Assert.Contains("answered 503", output.ToString(), StringComparison.Ordinal);

        await app.StopAsync();
        await app.DisposeAsync();
        output = new StringWriter();
        Assert.Equal(1, await HealthProbe.RunAsync(args, configuration => configuration["Test:Url"]!, output));
        Assert.StartsWith("unhealthy:", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ProbeAsync_ServerAcceptsButNeverAnswers_FailsAtTheTimeout()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        var output = new StringWriter();

        Assert.Equal(1, await HealthProbe.ProbeAsync(new Uri($"http://127.0.0.1:{port}/readyz"), TimeSpan.FromMilliseconds(300), output));
        Assert.StartsWith("unhealthy:", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_UnprobeableListenUrl_ExitsOne()
    {
        var output = new StringWriter();
        Assert.Equal(1, await HealthProbe.RunAsync(["healthcheck"], _ => "https://127.0.0.1:5000", output));
        Assert.Contains("cannot probe", output.ToString(), StringComparison.Ordinal);
    }
}
