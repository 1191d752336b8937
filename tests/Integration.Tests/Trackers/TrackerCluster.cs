using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using P2PRegistry.Core.Content;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Core.Placement;
using P2PRegistry.Integration.Tests.Agent;
using P2PRegistry.Integration.Tests.Swarm;
using P2PRegistry.Testing.Redis;

namespace P2PRegistry.Integration.Tests.Trackers;

/// <summary>
/// Several trackers on one Redis, as processes: a redis-server, an origin, N trackers (<c>Tracker:PeerStore=Redis</c>)
/// and agents whose tracker list is an <c>Agent:SettingsFile</c> the test rewrites. Everything stopped by PID on dispose.
/// </summary>
internal sealed class TrackerCluster : IAsyncDisposable
{
    /// <summary>Announce intervals short enough that a test sees several within a minute.</summary>
    public static readonly TimeSpan AnnounceInterval = TimeSpan.FromSeconds(5);

    private readonly Action<string, string> _log;
    private readonly string _keyPrefix = $"test-{Guid.NewGuid():N}:";

    private TrackerCluster(Action<string, string> log)
    {
        _log = log;
        SettingsFile = Directory.Combine("agent-settings.json");
    }

    public TempDirectory Directory { get; } = new("trackers");

    public RedisServerProcess Redis { get; private set; } = null!;

    public OriginProcess Origin { get; private set; } = null!;

    public List<TrackerProcess> Trackers { get; } = [];

    public List<AgentProcess> Agents { get; } = [];

    /// <summary>Every agent's output lines, by agent name.</summary>
    public ConcurrentDictionary<string, ConcurrentQueue<string>> AgentOutput { get; } = new();

    public string SettingsFile { get; }

    public static async Task<TrackerCluster> StartAsync(Action<string, string> log, int trackers, int agents)
    {
        var cluster = new TrackerCluster(log);
        try
        {
            cluster.Redis = await RedisServerProcess.StartAsync(line => log("redis", line));
            cluster.Origin = await OriginProcess.StartAsync(new OriginOptions
            {
                OnOutputLine = line => log("origin", line),
                ExtraArguments = [$"--Swarm:EgressBytesPerSecond={SwarmFixture.OriginEgressBytesPerSecond}"],
            });
            await Task.WhenAll(Enumerable.Range(0, trackers).Select(_ => cluster.AddTrackerAsync()));
            cluster.WriteSettings();
            await Task.WhenAll(Enumerable.Range(0, agents).Select(i => cluster.AddAgentAsync($"agent-{i}")));
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts one more tracker on the same Redis (not yet in the agents' settings: <see cref="WriteSettings"/>).</summary>
    public async Task<TrackerProcess> AddTrackerAsync()
    {
        var index = Trackers.Count;
        var tracker = await TrackerProcess.StartAsync(Origin.BaseAddress, line => _log($"tracker-{index}", line),
            "--Tracker:PeerStore=Redis",
            $"--Tracker:Redis:Configuration={Redis.Configuration}",
            $"--Tracker:Redis:KeyPrefix={_keyPrefix}",
            $"--Tracker:SeedingInterval={AnnounceInterval}",
            $"--Tracker:PeerTtl={4 * AnnounceInterval}",
            "--Tracker:SweepInterval=00:00:05");
        lock (Trackers)
        {
            Trackers.Add(tracker);
        }

        return tracker;
    }

    /// <summary>The trackers' gRPC URLs as the agents list them (and rank them: the ring's node ids).</summary>
    public List<string> TrackerUrls => [.. Trackers.Select(t => t.GrpcUrl.GetLeftPart(UriPartial.Authority))];

    /// <summary>Writes the agents' settings file with every tracker started so far; written to a temp name and renamed, so a reader never sees half a file.</summary>
    public void WriteSettings()
    {
        var json = JsonSerializer.Serialize(new { Agent = new { TrackerUrls } });
        var temp = SettingsFile + ".tmp";
        File.WriteAllText(temp, json);
        File.Move(temp, SettingsFile, overwrite: true);
    }

    public async Task<AgentProcess> AddAgentAsync(string name)
    {
        var lines = AgentOutput.GetOrAdd(name, _ => new ConcurrentQueue<string>());
        var agent = await AgentProcess.StartAsync(name, Trackers[0].GrpcUrl, Origin.BaseAddress, line =>
        {
            lines.Enqueue(line);
            _log(name, line);
        },
            $"--Agent:SettingsFile={SettingsFile}",
            // A miss waits for the swarm rather than answering 404 after a second (the machine is shared and busy).
            "--Agent:MissTimeout=00:00:30",
            $"--Swarm:SeedAnnounceInterval={AnnounceInterval}");
        lock (Agents)
        {
            Agents.Add(agent);
        }

        return agent;
    }

    /// <summary>Pushes a blob of seeded random bytes to the origin under <c>cluster/blobs</c>; returns it with its metainfo (from the origin).</summary>
    public async Task<(SwarmBlob Blob, MetaInfo MetaInfo)> PushAsync(int mebibytes, int seed)
    {
        var blob = SwarmBlob.Create(Directory.Combine($"blob-{seed}"), mebibytes, seed);
        using (var registry = new RegistryClient(Origin.BaseAddress))
        {
            Assert.Equal(HttpStatusCode.Created, await registry.UploadFileAsync("cluster/blobs", blob.Path, blob.Digest.Value));
        }

        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(1) };
        var metaInfo = MetaInfo.Decode(await http.GetByteArrayAsync(new Uri(Origin.BaseAddress, "/p2p/v1/metainfo/" + blob.Digest.Value)));

        // Every tracker fetches the metainfo now (its .torrent), so a pull's first wait is not the cold path on a busy machine.
        foreach (var tracker in Trackers.ToList())
        {
            await http.GetByteArrayAsync(tracker.TorrentUrl(blob.Digest.Value));
        }

        return (blob, metaInfo);
    }

    /// <summary>The trackers in the order agents try them for a blob's announces and metainfo (rendezvous hashing of its digest).</summary>
    public List<TrackerProcess> RankFor(Digest digest)
    {
        var urls = TrackerUrls;
        return [.. new RendezvousRing([.. urls.Select(RendezvousRing.NodeId)]).Rank(digest.Value).Select(i => Trackers[i])];
    }

    /// <summary>GET the blob from one agent as containerd would; the sha256 of the whole body.</summary>
    public static async Task<Digest> PullAsync(AgentProcess agent, Digest digest)
    {
        using var http = new HttpClient { BaseAddress = agent.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
        using var response = await http.GetAsync($"/v2/cluster/blobs/blobs/{digest}", HttpCompletionOption.ResponseHeadersRead);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{agent.Process.Describe()} answered {(int)response.StatusCode}");
        await using var body = await response.Content.ReadAsStreamAsync();
        return Digest.Parse("sha256:" + Convert.ToHexStringLower(await SHA256.HashDataAsync(body)));
    }

    /// <summary>A counter (or gauge) summed over its label sets, from any component's <c>/metrics</c>.</summary>
    public static async Task<double> MetricAsync(Uri baseAddress, string name)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var text = await http.GetStringAsync(new Uri(baseAddress, "/metrics"));
        var total = 0.0;
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith(name, StringComparison.Ordinal) && (line.Length == name.Length || line[name.Length] is ' ' or '{'))
            {
                total += double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
            }
        }

        return total;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Task.WhenAll(Agents.Select(a => a.DisposeAsync().AsTask()));
            await Task.WhenAll(Trackers.Select(t => t.DisposeAsync().AsTask()));
            if (Origin is not null)
            {
                await Origin.DisposeAsync();
            }

            if (Redis is not null)
            {
                await Redis.DisposeAsync();
            }
        }
        finally
        {
            Directory.Dispose();
        }
    }
}
