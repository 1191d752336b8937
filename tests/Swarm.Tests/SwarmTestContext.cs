using System.Diagnostics.Metrics;
using System.IO.Pipelines;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using P2PRegistry.Core.Wire;

namespace P2PRegistry.Swarm.Tests;

internal static class SwarmTestContext
{
    private static readonly IMeterFactory s_meters = new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>();

    public static SwarmOptions FastOptions(Action<SwarmOptions>? configure = null)
    {
        var options = new SwarmOptions
        {
            PeerPort = 0,
            StallTimeout = TimeSpan.FromSeconds(1),
            HandshakeTimeout = TimeSpan.FromSeconds(5),
            ConnectTimeout = TimeSpan.FromSeconds(2),
            DownloadAnnounceInterval = TimeSpan.FromMilliseconds(200),
            SeedAnnounceInterval = TimeSpan.FromMilliseconds(500),
            TrackerTimeout = TimeSpan.FromSeconds(1),
        };
        configure?.Invoke(options);
        return options;
    }

    public static SwarmContext Create(SwarmOptions? options = null, TimeProvider? time = null) =>
        new(options ?? FastOptions(), PeerId.CreateRandom(), time ?? TimeProvider.System, new SwarmMetrics(s_meters), NullLogger.Instance);

    public static (IDuplexPipe Left, IDuplexPipe Right) PipePair()
    {
        var leftToRight = new Pipe();
        var rightToLeft = new Pipe();
        return (new Duplex(rightToLeft.Reader, leftToRight.Writer), new Duplex(leftToRight.Reader, rightToLeft.Writer));
    }

    private sealed class Duplex(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
