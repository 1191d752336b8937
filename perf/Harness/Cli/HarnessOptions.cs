namespace P2PRegistry.Harness.Cli;

/// <summary>One invocation's settings, validated by <see cref="HarnessArguments.Parse"/>.</summary>
internal sealed record HarnessOptions
{
    public const string DefaultOutput = "artifacts/harness";

    public static readonly IReadOnlyList<string> KnownSystems = ["registry", "aria2c", "p2pregistry"];

    public int Agents { get; init; } = 4;

    public int SizeMib { get; init; } = 256;

    public int RateMbit { get; init; } = 100;

    public IReadOnlyList<string> Systems { get; init; } = ["registry", "aria2c"];

    public string Output { get; init; } = DefaultOutput;

    public bool Loopback { get; init; }

    /// <summary>Client counts to repeat the run for; empty means one run with <see cref="Agents"/>.</summary>
    public IReadOnlyList<int> Scale { get; init; } = [];

    /// <summary>Remove leftovers of earlier runs (namespaces with the harness prefix) and exit.</summary>
    public bool Cleanup { get; init; }

    /// <summary>Seconds one system may take for all its clients before it is stopped and reported as timed out.</summary>
    public int TimeoutSeconds { get; init; } = 600;

    public bool Help { get; init; }

    /// <summary>1, or 2: clients alternate between zones a and b (the seed host sits in zone a), the zones' bridges joined by one shaped link.</summary>
    public int Zones { get; init; } = 1;

    /// <summary>With two zones: the rate of the one link between them, each direction; unset = <see cref="RateMbit"/>.</summary>
    public int? InterZoneMbitSetting { get; init; }

    public int InterZoneMbit => InterZoneMbitSetting ?? RateMbit;

    /// <summary>p2pregistry: agents announce their zone and the tracker hands out near peers first (<c>Tracker:Locality</c>).</summary>
    public bool Locality { get; init; } = true;

    public static readonly IReadOnlyList<string> TlsModes = ["off", "control", "peer", "all"];

    /// <summary>
    /// p2pregistry only: <c>control</c> = TLS between the agents and the origin and tracker (their listeners, the agents'
    /// clients verifying); <c>peer</c> = TLS on the peer ports (<c>Swarm:Tls</c>); <c>all</c> = both, and the agents'
    /// node-local registry APIs (what the clients pull from) on TLS too.
    /// </summary>
    public string Tls { get; init; } = "off";

    /// <summary>
    /// p2pregistry: no warm-up pull; the agents are started, each waits for its /readyz, and the measured pull is each
    /// agent's first request (a fresh node: autoscaling, the first wave of a rollout).
    /// </summary>
    public bool ColdAgents { get; init; }

    /// <summary>p2pregistry: the folder holding Origin/, Tracker/ and Agent/ builds to run (null: src/*/bin of this checkout).</summary>
    public string? ComponentDirectory { get; init; }

    public bool ControlTls => Tls is "control" or "all";

    public bool PeerTls => Tls is "peer" or "all";

    public bool AgentApiTls => Tls is "all";

    public IReadOnlyList<int> ClientCounts => Scale.Count > 0 ? Scale : [Agents];

    public long BlobBytes => SizeMib * 1024L * 1024L;

    public static readonly IReadOnlyList<string> Workloads = ["blob", "image"];

    /// <summary>The systems that have an <c>image</c> workload (containerd pulls from a registry, or through a mirror).</summary>
    public static readonly IReadOnlyList<string> ImageSystems = ["registry", "p2pregistry"];

    /// <summary><c>blob</c>: every client fetches one blob (curl, aria2c); <c>image</c>: every client host's containerd pulls and unpacks an image.</summary>
    public string Workload { get; init; } = "blob";

    public bool ImageWorkload => Workload == "image";

    /// <summary>Image workload: the number of gzip layers.</summary>
    public int Layers { get; init; } = 8;

    /// <summary>Image workload: the smallest layer's random content, MiB (the sizes grow geometrically to <see cref="LayerMaxMib"/>).</summary>
    public int LayerMinMib { get; init; } = 5;

    /// <summary>Image workload: the largest layer's random content, MiB.</summary>
    public int LayerMaxMib { get; init; } = 200;

    /// <summary>Image workload: clients start in this many waves, each when the previous one finished; unset = one wave.</summary>
    public int? Waves { get; init; }

    /// <summary>Image workload: each wave is this percentage of the clients (rounded up); the alternative to <see cref="Waves"/>.</summary>
    public int? WavePercent { get; init; }

    /// <summary>Clients per wave for <paramref name="clients"/> clients, first wave first (one wave without a wave setting).</summary>
    public IReadOnlyList<int> WaveSizes(int clients) =>
        WavePercent is { } percent ? Images.WavePlan.ByPercent(clients, percent) : Images.WavePlan.ByCount(clients, Waves ?? 1);
}
