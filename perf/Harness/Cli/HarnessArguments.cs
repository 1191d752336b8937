using System.Globalization;
using P2PRegistry.Harness.Systems;

namespace P2PRegistry.Harness.Cli;

/// <summary>Parses <c>--name value</c> / <c>--name=value</c> arguments into <see cref="HarnessOptions"/>.</summary>
internal static class HarnessArguments
{
    public const int MaxAgents = 64;
    public const int MaxSizeMib = 16 * 1024;
    public const int MaxRateMbit = 100_000;
    public const int MaxLayers = 32;
    public const int MaxLayerMib = 4096;

    public const string Usage = """
        P2PRegistry.Harness: how fast does a blob reach every node when N nodes want it at once?

        Options:
          --agents N           clients fetching at once (1..64, default 4)
          --size-mib M         blob size in MiB (1..16384, default 256)
          --rate-mbit R        every link's rate, both directions (1..100000, default 100)
          --systems a,b        any of registry, aria2c, p2pregistry (default registry,aria2c)
          --out DIR            report folder (default artifacts/harness)
          --loopback           no namespaces: everything on 127.0.0.1, rates from the programs' own limits
          --scale 2,4,8        repeat for each client count and report how time grows with N
          --timeout-seconds S  per system and client count (default 600)
          --tls MODE           p2pregistry over TLS: off (default), control (agents to origin and tracker),
                               peer (the peer ports), all (both, and the agents' registry APIs)
          --zones Z            1 (default) or 2: clients alternate between zones a and b, each zone a bridge, one
                               link between them (the seed host, origin and tracker, in zone a); reports the bytes
                               that crossed into each zone; needs namespaces and at least 2 clients
          --inter-zone-mbit R  with --zones 2: the rate of the link between the zones, each direction
                               (1..100000, default --rate-mbit: one host's link for all of a zone's traffic)
          --locality on|off    p2pregistry: agents announce their zone, the tracker hands out near peers first
                               (default on; off = Tracker:Locality=false, Swarm:PreferLocalPeers=false)
          --workload W         blob (default: one blob, fetched by curl / aria2c) or image: every client host runs
                               its own containerd, which pulls and unpacks a multi-layer gzip image (ctr images pull;
                               unpigz on PATH); systems registry and p2pregistry (the default for this workload)
          --layers K           image: gzip layers (1..32, default 8)
          --layer-mib MIN-MAX  image: random content of the smallest and the largest layer, MiB, sizes growing
                               geometrically between them (1..4096, default 5-200; one number = every layer)
          --waves K            image: a rolling update: clients start in K waves, each wave when the previous one
                               finished (default 1: all at once)
          --wave-percent P     image: waves of P % of the clients each, rounded up (e.g. 20); instead of --waves
          --cold-agents        p2pregistry: no warm-up pull; the measured pull is each agent's first request
                               (started, then ready on /readyz, as a fresh node is)
          --bin DIR            p2pregistry: run DIR/Origin/P2PRegistry.Origin.dll, DIR/Tracker/…, DIR/Agent/… (e.g. the
                               output of dotnet publish, or a copy of an older commit's build) instead of src/*/bin;
                               folders may be lower-case (deploy/docker/publish.sh's layout), and a component with no
                               .dll runs as the native executable P2PRegistry.<Component> (the Native AOT agent)
          --cleanup            delete leftover namespaces and processes of earlier harness runs, then exit
          --help
        """;

    public static HarnessOptions Parse(IReadOnlyList<string> args)
    {
        var options = new HarnessOptions();
        var systemsGiven = false;
        var imageOnly = false;
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                throw new HarnessArgumentException($"Unexpected argument '{arg}'; options start with --. See --help.");
            }

            string name;
            string? inline = null;
            var eq = arg.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
            {
                name = arg[2..eq];
                inline = arg[(eq + 1)..];
            }
            else
            {
                name = arg[2..];
            }

            string Value()
            {
                if (inline is not null)
                {
                    return inline;
                }

                if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal))
                {
                    throw new HarnessArgumentException($"--{name} needs a value.");
                }

                return args[++i];
            }

            void NoValue()
            {
                if (inline is not null)
                {
                    throw new HarnessArgumentException($"--{name} takes no value.");
                }
            }

            systemsGiven |= name == "systems";
            imageOnly |= name is "layers" or "layer-mib" or "waves" or "wave-percent";
            options = name switch
            {
                "agents" => options with { Agents = Int(name, Value(), 1, MaxAgents) },
                "size-mib" => options with { SizeMib = Int(name, Value(), 1, MaxSizeMib) },
                "rate-mbit" => options with { RateMbit = Int(name, Value(), 1, MaxRateMbit) },
                "systems" => options with { Systems = SystemList(Value()) },
                "out" => options with { Output = NonEmpty(name, Value()) },
                "scale" => options with { Scale = ScaleList(Value()) },
                "tls" => options with { Tls = TlsMode(Value()) },
                "timeout-seconds" => options with { TimeoutSeconds = Int(name, Value(), 5, 24 * 3600) },
                "zones" => options with { Zones = Int(name, Value(), 1, 2) },
                "inter-zone-mbit" => options with { InterZoneMbitSetting = Int(name, Value(), 1, MaxRateMbit) },
                "locality" => options with { Locality = OnOff(name, Value()) },
                "workload" => options with { Workload = Workload(Value()) },
                "layers" => options with { Layers = Int(name, Value(), 1, MaxLayers) },
                "layer-mib" => LayerMib(options, Value()),
                "waves" => options with { Waves = Int(name, Value(), 1, MaxAgents) },
                "wave-percent" => options with { WavePercent = Int(name, Value(), 1, 100) },
                "loopback" => Flag(options with { Loopback = true }, NoValue),
                "cold-agents" => Flag(options with { ColdAgents = true }, NoValue),
                "bin" => options with { ComponentDirectory = ComponentDirectory(Value()) },
                "cleanup" => Flag(options with { Cleanup = true }, NoValue),
                "help" or "h" => Flag(options with { Help = true }, NoValue),
                _ => throw new HarnessArgumentException($"Unknown option --{name}. See --help."),
            };
        }

        return CheckColdAgents(CheckWorkload(CheckZones(options), systemsGiven, imageOnly));
    }

    // Checked here, not when the system starts: a typo should not cost the testbed's set-up first.
    private static string ComponentDirectory(string value)
    {
        var full = Path.GetFullPath(NonEmpty("bin", value));
        var missing = new[] { "Origin", "Tracker", "Agent" }
            .Where(component => P2PRegistrySystem.PublishedComponent(full, component, $"P2PRegistry.{component}") is null)
            .ToList();
        return missing.Count == 0
            ? full
            : throw new HarnessArgumentException($"--bin {value}: no {string.Join(", ", missing.Select(c => $"{c}/P2PRegistry.{c}(.dll)"))} under {full}.");
    }

    // Only the p2pregistry system has agents to keep cold: without it the flag would change nothing.
    private static HarnessOptions CheckColdAgents(HarnessOptions options) =>
        !options.ColdAgents || options.Systems.Contains("p2pregistry")
            ? options
            : throw new HarnessArgumentException("--cold-agents applies to the p2pregistry system only; add it to --systems or drop the flag.");

    private static HarnessOptions CheckWorkload(HarnessOptions options, bool systemsGiven, bool imageOnly)
    {
        if (!options.ImageWorkload)
        {
            return imageOnly ? throw new HarnessArgumentException("--layers, --layer-mib, --waves and --wave-percent need --workload image.") : options;
        }

        if (options.Loopback)
        {
            throw new HarnessArgumentException("--workload image needs namespaces (a containerd per client host on a shaped link), not --loopback.");
        }

        if (options.Tls != "off")
        {
            throw new HarnessArgumentException("--workload image runs without TLS (containerd's hosts.toml names plain-HTTP registries); drop --tls.");
        }

        if (options.Waves is not null && options.WavePercent is not null)
        {
            throw new HarnessArgumentException("--waves and --wave-percent both set the waves; give one.");
        }

        if (options.Waves is { } waves && waves > options.ClientCounts.Min())
        {
            throw new HarnessArgumentException($"--waves {waves} needs at least as many clients, got {options.ClientCounts.Min()}.");
        }

        if (!systemsGiven)
        {
            return options with { Systems = HarnessOptions.ImageSystems };
        }

        var other = options.Systems.FirstOrDefault(s => !HarnessOptions.ImageSystems.Contains(s));
        return other is null
            ? options
            : throw new HarnessArgumentException($"--workload image: '{other}' has no image workload; use {string.Join(" and/or ", HarnessOptions.ImageSystems)}.");
    }

    private static string Workload(string value) =>
        HarnessOptions.Workloads.Contains(value) ? value : throw new HarnessArgumentException($"--workload must be one of {string.Join(", ", HarnessOptions.Workloads)}, got '{value}'.");

    private static HarnessOptions LayerMib(HarnessOptions options, string value)
    {
        var dash = value.IndexOf('-', StringComparison.Ordinal);
        var min = Int("layer-mib", dash < 0 ? value : value[..dash], 1, MaxLayerMib);
        var max = dash < 0 ? min : Int("layer-mib", value[(dash + 1)..], 1, MaxLayerMib);
        return min <= max
            ? options with { LayerMinMib = min, LayerMaxMib = max }
            : throw new HarnessArgumentException($"--layer-mib: the smallest layer ({min}) must not be larger than the largest ({max}).");
    }

    private static HarnessOptions CheckZones(HarnessOptions options)
    {
        if (options.Zones == 1)
        {
            return options.InterZoneMbitSetting is null ? options : throw new HarnessArgumentException("--inter-zone-mbit needs --zones 2.");
        }

        if (options.Loopback)
        {
            throw new HarnessArgumentException("--zones 2 needs namespaces (a link between zones to shape and count), not --loopback.");
        }

        if (options.ClientCounts.Min() < 2)
        {
            throw new HarnessArgumentException($"--zones 2 needs at least 2 clients (one per zone), got {options.ClientCounts.Min()}.");
        }

        return options;
    }

    private static bool OnOff(string name, string value) => value switch
    {
        "on" => true,
        "off" => false,
        _ => throw new HarnessArgumentException($"--{name} must be on or off, got '{value}'."),
    };

    private static string TlsMode(string value) =>
        HarnessOptions.TlsModes.Contains(value) ? value : throw new HarnessArgumentException($"--tls must be one of {string.Join(", ", HarnessOptions.TlsModes)}, got '{value}'.");

    private static HarnessOptions Flag(HarnessOptions options, Action check)
    {
        check();
        return options;
    }

    private static string NonEmpty(string name, string value) =>
        string.IsNullOrWhiteSpace(value) ? throw new HarnessArgumentException($"--{name} must not be empty.") : value;

    private static int Int(string name, string value, int min, int max)
    {
        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
        {
            throw new HarnessArgumentException($"--{name} must be a whole number, got '{value}'.");
        }

        if (n < min || n > max)
        {
            throw new HarnessArgumentException($"--{name} must be between {min} and {max}, got {n}.");
        }

        return n;
    }

    private static List<string> SystemList(string value)
    {
        var systems = new List<string>();
        foreach (var part in value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var name = part.ToLowerInvariant();
            if (!HarnessOptions.KnownSystems.Contains(name))
            {
                throw new HarnessArgumentException(
                    $"--systems: unknown system '{part}'; known: {string.Join(", ", HarnessOptions.KnownSystems)}.");
            }

            if (systems.Contains(name))
            {
                throw new HarnessArgumentException($"--systems: '{name}' is listed twice.");
            }

            systems.Add(name);
        }

        return systems.Count == 0 ? throw new HarnessArgumentException("--systems needs at least one system.") : systems;
    }

    private static List<int> ScaleList(string value)
    {
        var counts = new List<int>();
        foreach (var part in value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var n = Int("scale", part, 1, MaxAgents);
            if (counts.Contains(n))
            {
                throw new HarnessArgumentException($"--scale: {n} is listed twice.");
            }

            counts.Add(n);
        }

        if (counts.Count == 0)
        {
            throw new HarnessArgumentException("--scale needs at least one client count, e.g. --scale 2,4,8.");
        }

        counts.Sort();
        return counts;
    }
}
