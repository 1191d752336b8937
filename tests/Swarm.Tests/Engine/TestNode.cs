using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using P2PRegistry.Swarm.Tracking;
using P2PRegistry.Swarm.Transport;

namespace P2PRegistry.Swarm.Tests.Engine;

/// <summary>A swarm engine hosted the way the Agent hosts it: the peer listener on 127.0.0.1, an ephemeral port.</summary>
internal sealed class TestNode : IAsyncDisposable
{
    private readonly IHost _app;

    private TestNode(IHost app, SwarmEngine engine)
    {
        _app = app;
        Engine = engine;
    }

    public SwarmEngine Engine { get; }

    public int Port => Engine.ListenPort;

    public IServiceProvider Services => _app.Services;

    /// <param name="settings">Configuration under <c>Swarm:</c> that options cannot carry (e.g. <c>Swarm:Tls:CertificatePath</c>).</param>
    /// <param name="time">The engine's clock (a fake one for tests of its schedules); the system clock unless given.</param>
    public static async Task<TestNode> StartAsync(ITrackerClient tracker, Action<SwarmOptions>? configure = null, IDictionary<string, string?>? settings = null, TimeProvider? time = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        if (Environment.GetEnvironmentVariable("P2P_SWARM_TEST_LOG") == "1")
        {
            builder.Logging.AddSimpleConsole(c => c.TimestampFormat = "HH:mm:ss.fff ");
            builder.Logging.SetMinimumLevel(LogLevel.Debug);
            builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        }
        builder.Services.AddSingleton(tracker);
        if (time is not null)
        {
            builder.Services.AddSingleton(time);
        }

        var section = settings is null ? null : new ConfigurationBuilder().AddInMemoryCollection(settings).Build().GetSection(SwarmOptions.SectionName);
        builder.Services.AddSwarm(section, configure: o =>
        {
            var fast = SwarmTestContext.FastOptions(configure);
            foreach (var property in typeof(SwarmOptions).GetProperties().Where(p => p.CanWrite))
            {
                property.SetValue(o, property.GetValue(fast));
            }
        });
        builder.Services.AddSwarmPeerListener(_ => new IPEndPoint(IPAddress.Loopback, 0));
        var app = builder.Build();
        await app.StartAsync();
        var engine = app.Services.GetRequiredService<SwarmEngine>();
        Assert.NotEqual(0, engine.ListenPort);
        return new TestNode(app, engine);
    }

    public async ValueTask DisposeAsync()
    {
        await Engine.DisposeAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _app.StopAsync(cts.Token);
        _app.Dispose();
    }
}
