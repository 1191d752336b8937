using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using P2PRegistry.Integration.Tests.Swarm;

namespace P2PRegistry.Integration.Tests.Agent;

/// <summary>
/// Seeding that scales with the cache, as processes: an origin, a tracker, three agents with 300 cached blobs each. The
/// tracker is killed for two minutes: the agents back off (announces per second per agent counted on their metrics)
/// while their idle swarms close; the tracker comes back empty on the same port and every agent is listed again for
/// every blob, spread out; then, with the origin gone, a fresh agent gets blobs whose swarms were closed from the three.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class TrackerOutageTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int BlobCount = 300;
    private const int AgentCount = 3;
    private const int BlobLength = 4096;

    // With the defaults (seed interval 1 min, cap 5 min) the policy's expectation for 300 seeds over a 2 min outage is
    // about 4 a second (AnnouncePolicyTests); before the back-off, every blob retried every 5 s: 60 a second.
    private const double MaxAnnouncesPerSecondPerAgent = 8;

    private static readonly TimeSpan Outage = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan RelistBound = TimeSpan.FromSeconds(60);

    private readonly TempDirectory _dir = new("tracker-outage");
    private readonly List<AgentProcess> _agents = [];
    private OriginProcess _origin = null!;
    private TrackerProcess _tracker = null!;

    public async Task InitializeAsync()
    {
        _origin = await OriginProcess.StartAsync(new OriginOptions { OnOutputLine = Log("origin", quiet: true) });

        // Seeds announce at the agents' own interval (1 min): the tracker's 30 s is shorter, and its TTL 90 s.
        _tracker = await TrackerProcess.StartAsync(_origin.BaseAddress, Log("tracker", quiet: true));
    }

    public async Task DisposeAsync()
    {
        try
        {
            foreach (var agent in _agents)
            {
                await agent.DisposeAsync();
            }

            await _tracker.DisposeAsync();
            await _origin.DisposeAsync();
        }
        finally
        {
            _dir.Dispose();
        }
    }

    [Fact]
    public async Task TrackerDownTwoMinutes_AnnouncesBackOff_AllRelistedAfter_IdleSwarmsClosedYetServed()
    {
        var clock = Stopwatch.StartNew();
        var blobs = new List<(string Digest, byte[] Content)>();
        using (var registry = new RegistryClient(_origin.BaseAddress))
        {
            for (var i = 0; i < BlobCount; i++)
            {
                var content = new byte[BlobLength];
                new Random(1000 + i).NextBytes(content);
                blobs.Add((await registry.UploadBytesAsync("outage/blobs", content), content));
            }
        }

        for (var i = 0; i < AgentCount; i++)
        {
            _agents.Add(await AgentProcess.StartAsync($"agent{i}", _tracker.GrpcUrl, _origin.BaseAddress, Log($"agent{i}", quiet: true),
                "--Agent:IdleSeedTimeout=00:00:20", "--Agent:MissTimeout=00:00:10"));
        }

        // Each agent pulls all 300 (through the swarm: origin and each other), and so caches and seeds them.
        await Task.WhenAll(_agents.Select(agent => PullAllAsync(agent, blobs)));
        output.WriteLine($"{clock.Elapsed.TotalSeconds:F0} s: {AgentCount} agents hold {BlobCount} blobs each");
        Assert.All(await Task.WhenAll(_agents.Select(a => a.MetricAsync("p2pregistry_swarm_blobs_seeded"))), n => Assert.Equal(BlobCount, n));
        await WaitForAsync(async () => await TrackerPeersAsync() == AgentCount * BlobCount, TimeSpan.FromSeconds(60), "the tracker to list every agent for every blob");

        // The tracker dies (SIGKILL) for two minutes.
        _tracker.Process.Kill();
        await _tracker.Process.WaitForExitAsync(TimeSpan.FromSeconds(10));
        var before = await Task.WhenAll(_agents.Select(a => a.MetricAsync("p2pregistry_swarm_announces_total")));
        var down = Stopwatch.StartNew();
        var openDuringOutage = new long[AgentCount];
        while (down.Elapsed < Outage)
        {
            // Meanwhile the swarms, idle since the pulls, close (Agent:IdleSeedTimeout 20 s here).
            openDuringOutage = await Task.WhenAll(_agents.Select(a => a.MetricAsync("p2pregistry_swarm_swarms_open")));
            await Task.Delay(TimeSpan.FromSeconds(5));
        }

        var after = await Task.WhenAll(_agents.Select(a => a.MetricAsync("p2pregistry_swarm_announces_total")));
        var failed = await Task.WhenAll(_agents.Select(a => a.MetricAsync("p2pregistry_swarm_announces_failed_total")));
        var seconds = down.Elapsed.TotalSeconds;
        var rates = before.Zip(after, (b, a) => (a - b) / seconds).ToList();
        output.WriteLine($"tracker down {seconds:F0} s: announces per second per agent {string.Join(", ", rates.Select(r => r.ToString("F2", CultureInfo.InvariantCulture)))}; failed in total {string.Join(", ", failed)}");
        Assert.All(rates, rate => Assert.InRange(rate, 0.1, MaxAnnouncesPerSecondPerAgent));

        // Idle swarms closed, yet every blob is still seeded (and was announced, in vain, all along).
        output.WriteLine($"open swarms at the end of the outage: {string.Join(", ", openDuringOutage)}");
        Assert.All(openDuringOutage, open => Assert.Equal(0, open));
        Assert.All(await Task.WhenAll(_agents.Select(a => a.MetricAsync("p2pregistry_swarm_blobs_seeded"))), n => Assert.Equal(BlobCount, n));

        // The tracker comes back empty on the same port: every agent is listed for every blob again within the bound.
        await _tracker.RestartAsync();
        var back = Stopwatch.StartNew();
        await WaitForAsync(async () => await TrackerPeersAsync() == AgentCount * BlobCount, RelistBound, "every agent to be listed again for every blob");
        output.WriteLine($"all {AgentCount * BlobCount} listed again {back.Elapsed.TotalSeconds:F1} s after the tracker restarted");

        // Only the agents can serve now: the origin is gone. A fresh agent gets blobs whose swarms are closed, from them.
        _origin.Kill();
        await _origin.Process.WaitForExitAsync(TimeSpan.FromSeconds(10));
        await using var fresh = await AgentProcess.StartAsync("fresh", _tracker.GrpcUrl, _origin.BaseAddress, Log("fresh", quiet: false), "--Agent:MissTimeout=00:00:10");
        foreach (var (digest, _) in blobs.Take(3))
        {
            Assert.Equal(digest, await GetDigestAsync(fresh, $"/v2/outage/blobs/blobs/{digest}"));
        }

        Assert.True(await MetricAsync(fresh.BaseAddress, "p2pregistry_swarm_bytes_downloaded_bytes_total", "\"peer\"") >= 3 * BlobLength, "the fresh agent's bytes came from peers");
        var reopened = await Task.WhenAll(_agents.Select(a => a.MetricAsync("p2pregistry_swarm_swarms_open")));
        output.WriteLine($"swarms open again on the three: {string.Join(", ", reopened)}; whole test {clock.Elapsed.TotalSeconds:F0} s");
        Assert.True(reopened.Sum() >= 1, "no closed swarm was reopened for the fresh agent");
    }

    private async Task PullAllAsync(AgentProcess agent, List<(string Digest, byte[] Content)> blobs)
    {
        await Parallel.ForEachAsync(blobs, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (blob, token) =>
        {
            // Under load a miss may still answer 404 (the swarm found no source in time): containerd would retry too.
            for (var attempt = 1; ; attempt++)
            {
                var digest = await TryGetDigestAsync(agent, $"/v2/outage/blobs/blobs/{blob.Digest}");
                if (digest is not null || attempt == 5)
                {
                    Assert.Equal(blob.Digest, digest);
                    return;
                }

                await Task.Delay(TimeSpan.FromSeconds(1), token);
            }
        });
    }

    private static async Task<string> GetDigestAsync(AgentProcess agent, string path) =>
        await TryGetDigestAsync(agent, path) ?? throw new Xunit.Sdk.XunitException($"GET {path} from {agent.Process.Describe()} failed");

    private static async Task<string?> TryGetDigestAsync(AgentProcess agent, string path)
    {
        using var http = new HttpClient { BaseAddress = agent.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        using var response = await http.GetAsync(path);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            return null;
        }

        return "sha256:" + Convert.ToHexStringLower(SHA256.HashData(await response.Content.ReadAsByteArrayAsync()));
    }

    private async Task<long> TrackerPeersAsync() => await MetricAsync(_tracker.HttpUrl, "p2pregistry_tracker_peers", filter: null);

    /// <summary>A metric summed over the lines that contain <paramref name="filter"/> (a label value), or over all.</summary>
    private static async Task<long> MetricAsync(Uri baseAddress, string name, string? filter)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var text = await http.GetStringAsync(new Uri(baseAddress, "/metrics"));
        var total = 0L;
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith(name, StringComparison.Ordinal) && (line.Length == name.Length || line[name.Length] is ' ' or '{')
                && (filter is null || line.Contains(filter, StringComparison.Ordinal)))
            {
                total += (long)double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
            }
        }

        return total;
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (!await condition())
        {
            if (deadline.Elapsed > timeout)
            {
                throw new Xunit.Sdk.XunitException($"Timed out after {timeout.TotalSeconds:F0} s waiting for {what}.");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(500));
        }
    }

    /// <summary>Output lines to the test's output; quiet ones only warnings and errors (four processes over minutes).</summary>
    private Action<string> Log(string name, bool quiet) => line =>
    {
        // Quiet: warnings, errors, and the engine's outage and idle-close lines (SwarmEngine events 23, 24, 25).
        if (quiet && !line.Contains(" warn: ", StringComparison.Ordinal) && !line.Contains(" fail: ", StringComparison.Ordinal)
            && !line.Contains(" crit: ", StringComparison.Ordinal) && !line.Contains("SwarmEngine[2", StringComparison.Ordinal))
        {
            return;
        }

        try
        {
            output.WriteLine($"[{name}] {line}");
        }
        catch (InvalidOperationException)
        {
            // Output after the test ended.
        }
    };
}
