using Microsoft.Extensions.Logging;
using P2PRegistry.Core.Wire;
using P2PRegistry.Swarm.Bandwidth;

namespace P2PRegistry.Swarm;

/// <summary>What every swarm and session of one node shares: identity, settings, limits, clock, telemetry.</summary>
internal sealed class SwarmContext
{
    public SwarmContext(SwarmOptions options, PeerId peerId, TimeProvider time, SwarmMetrics metrics, ILogger logger)
    {
        Options = options;
        PeerId = peerId;
        Time = time;
        Metrics = metrics;
        Logger = logger;
        Ingress = new TokenBucket(options.IngressBytesPerSecond, Math.Max(options.IngressBytesPerSecond / 4, options.BlockSize * 4L), time);
        Egress = new TokenBucket(options.EgressBytesPerSecond, Math.Max(options.EgressBytesPerSecond / 4, options.BlockSize * 4L), time);
        Connections = new ConnectionLimiter(
            options.MaxConnections, options.MaxConnectionsPerSwarm, options.MaxConnectionsPerAddress,
            options.MaxPendingConnections, options.MaxPendingConnectionsPerAddress);
        SuperSeed = options.SuperSeed;
    }

    public SwarmOptions Options { get; }

    public PeerId PeerId { get; }

    public TimeProvider Time { get; }

    public SwarmMetrics Metrics { get; }

    public ILogger Logger { get; }

    public TokenBucket Ingress { get; }

    public TokenBucket Egress { get; }

    public ConnectionLimiter Connections { get; }

    /// <summary>Complete blobs opened from now on are super-seeded (<see cref="SwarmOptions.SuperSeed"/>, or set by the host).</summary>
    public bool SuperSeed { get; set; }

    /// <summary>The port this node listens on (announced); set once the listener is bound.</summary>
    public int ListenPort { get; set; }

    /// <summary>
    /// Tests only: runs on a <see cref="Pieces.PieceVerifier"/> worker before each piece's SHA-1 check of a download
    /// started from now on, with the piece, so a test can hold a check (e.g. until the piece's sender has left).
    /// </summary>
    public Action<int>? BeforePieceCheck { get; set; }
}
