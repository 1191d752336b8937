using System.Globalization;
using System.Net;

namespace P2PRegistry.TrackerLoad;

/// <summary>The command line (<c>--name value</c> pairs); every value has a default but the tracker's address.</summary>
internal sealed record LoadArguments
{
    public required Uri TrackerUrl { get; init; }

    /// <summary>Where the metainfo server listens (the tracker's <c>Tracker:OriginUrl</c>).</summary>
    public IPEndPoint MetaInfoEndPoint { get; init; } = new(IPAddress.Loopback, 0);

    public int Swarms { get; init; } = 1000;

    public int MaxPeersPerSwarm { get; init; } = 10_000;

    public int MinPeersPerSwarm { get; init; } = 10;

    /// <summary>Announces in flight at once (closed loop: each caller sends its next one when the last is answered).</summary>
    public int Callers { get; init; } = 64;

    /// <summary>HTTP/2 connections the callers share, round robin.</summary>
    public int Connections { get; init; } = 4;

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(20);

    public int DownloadingAnnounces { get; init; } = 3;

    /// <summary>Of a seed's announces, the share (in percent) that are a new pull of the blob (STARTED again) instead of a periodic one.</summary>
    public int RestartPercent { get; init; } = 5;

    /// <summary>The tracker's process, for its CPU time; other processes (redis) with a name.</summary>
    public IReadOnlyList<(string Name, int Pid)> CpuPids { get; init; } = [];

    public string? JsonOut { get; init; }

    public string Store { get; init; } = "memory";

    public int Seed { get; init; } = 1;

    public const string Usage =
        "usage: P2PRegistry.TrackerLoad --tracker http://127.0.0.1:<grpc port> [--metainfo-port P] [--swarms 1000]\n" +
        "  [--max-peers 10000] [--min-peers 10] [--callers 64] [--connections 4] [--duration-seconds 20]\n" +
        "  [--downloading-announces 3] [--restart-percent 5] [--pid tracker=<pid>]... [--store memory|redis] [--json FILE] [--seed 1]";

    public static LoadArguments Parse(IReadOnlyList<string> args)
    {
        Uri? tracker = null;
        var result = new LoadArguments { TrackerUrl = new Uri("http://127.0.0.1") };
        var pids = new List<(string, int)>();
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            if (i + 1 >= args.Count)
            {
                throw new FormatException($"{name} needs a value.");
            }

            var value = args[++i];
            result = name switch
            {
                "--tracker" => result with { TrackerUrl = tracker = new Uri(value, UriKind.Absolute) },
                "--metainfo-port" => result with { MetaInfoEndPoint = new IPEndPoint(IPAddress.Loopback, Int(name, value, 0, 65535)) },
                "--swarms" => result with { Swarms = Int(name, value, 1, 1_000_000) },
                "--max-peers" => result with { MaxPeersPerSwarm = Int(name, value, 1, 1_000_000) },
                "--min-peers" => result with { MinPeersPerSwarm = Int(name, value, 1, 1_000_000) },
                "--callers" => result with { Callers = Int(name, value, 1, 10_000) },
                "--connections" => result with { Connections = Int(name, value, 1, 1_000) },
                "--duration-seconds" => result with { Duration = TimeSpan.FromSeconds(Int(name, value, 1, 3600)) },
                "--restart-percent" => result with { RestartPercent = Int(name, value, 0, 100) },
                "--downloading-announces" => result with { DownloadingAnnounces = Int(name, value, 0, Workload.PeerLifecycle.MaxDownloadingAnnounces) },
                "--pid" => AddPid(result, pids, value),
                "--store" => result with { Store = value },
                "--json" => result with { JsonOut = value },
                "--seed" => result with { Seed = Int(name, value, 0, int.MaxValue) },
                _ => throw new FormatException($"Unknown option {name}."),
            };
        }

        if (tracker is null)
        {
            throw new FormatException("--tracker is required.");
        }

        if (result.MinPeersPerSwarm > result.MaxPeersPerSwarm)
        {
            throw new FormatException("--min-peers must not exceed --max-peers.");
        }

        return result with { CpuPids = pids };
    }

    private static LoadArguments AddPid(LoadArguments result, List<(string, int)> pids, string value)
    {
        var at = value.IndexOf('=', StringComparison.Ordinal);
        if (at <= 0)
        {
            throw new FormatException($"--pid wants name=pid, got '{value}'.");
        }

        pids.Add((value[..at], Int("--pid", value[(at + 1)..], 1, int.MaxValue)));
        return result;
    }

    private static int Int(string name, string value, int min, int max) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) && parsed >= min && parsed <= max
            ? parsed
            : throw new FormatException($"{name} wants a whole number in {min}..{max}, got '{value}'.");
}
