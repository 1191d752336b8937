using System.Net;
using System.Security.Cryptography;
using P2PRegistry.Integration.Tests.Swarm;

namespace P2PRegistry.Integration.Tests.Agent;

/// <summary>
/// A fresh node pulls P2P from its very first request: agents just started (each awaited on <c>/readyz</c>, with the
/// default miss timeout) serve their first pull of a blob with 200 and the right bytes, through the swarm (the origin's
/// seeder and each other), with no fast 404. And <c>/readyz</c> follows the tracker: not ready while it is unreachable,
/// ready once it answers.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class FreshAgentTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int AgentCount = 3;
    private const int BlobLength = 24 * 1024 * 1024;
    private const string PatientSourceTimeout = "--Agent:SourceTimeout=00:00:30";
    private OriginProcess _origin = null!;

    public async Task InitializeAsync() => _origin = await OriginProcess.StartAsync(new OriginOptions { OnOutputLine = Log("origin") });

    public async Task DisposeAsync() => await _origin.DisposeAsync();

    [Fact]
    public async Task FreshAgents_FirstPullAtOnce_ServedThroughTheSwarm_NoFastMiss()
    {
        await using var tracker = await TrackerProcess.StartAsync(_origin.BaseAddress, Log("tracker"));
        var (digest, content) = await PushBlobAsync("fresh/first", 7);

        // Started together, as a new node pool is; each is ready before its first request, and that request is the
        // measured one: no warm-up, no retry.
        // Agent:MissTimeout stays at its default (1 s), which the slow first MetaInfo of a loaded machine used to exceed;
        // the wait for a source that exists is generous, so a machine under heavy load does not fail the test.
        var agents = await Task.WhenAll(Enumerable.Range(0, AgentCount).Select(i =>
            AgentProcess.StartAsync($"fresh-{i}", tracker.GrpcUrl, _origin.BaseAddress, Log($"fresh-{i}"), PatientSourceTimeout)));
        try
        {
            var pulls = await Task.WhenAll(agents.Select(async agent =>
            {
                using var http = new HttpClient { BaseAddress = agent.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
                using var response = await http.GetAsync($"/v2/fresh/first/blobs/{digest}");
                return (response.StatusCode, Body: await response.Content.ReadAsByteArrayAsync());
            }));

            foreach (var (status, body) in pulls)
            {
                Assert.Equal(HttpStatusCode.OK, status);
                Assert.Equal(digest, "sha256:" + Convert.ToHexStringLower(SHA256.HashData(body)));
            }

            foreach (var agent in agents)
            {
                Assert.Equal(0, await agent.MetricAsync("p2pregistry_agent_fast_misses_total"));
                var fromSwarm = await agent.MetricAsync("p2pregistry_agent_bytes_from_peers_bytes_total") + await agent.MetricAsync("p2pregistry_agent_bytes_from_origins_bytes_total");
                Assert.Equal(content.Length, fromSwarm);
            }
        }
        finally
        {
            foreach (var agent in agents)
            {
                await agent.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Readyz_NotReadyWhileTheTrackerIsUnreachable_ReadyOnceItAnswers_ThenServes()
    {
        var trackerPort = FreePort.Next();
        await using var agent = await AgentProcess.StartLiveAsync("waiting", new Uri($"http://127.0.0.1:{trackerPort}"), _origin.BaseAddress, Log("waiting"), PatientSourceTimeout);
        using var http = new HttpClient { BaseAddress = agent.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };

        // Live, not ready, for as long as no tracker answers (several probe rounds).
        for (var i = 0; i < 10; i++)
        {
            using var ready = await http.GetAsync("/readyz");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz")).StatusCode);
            await Task.Delay(300);
        }

        await using var tracker = await TrackerProcess.StartAsync(_origin.BaseAddress, trackerPort, Log("tracker"));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while ((await http.GetAsync("/readyz")).StatusCode != HttpStatusCode.OK)
        {
            Assert.True(DateTime.UtcNow < deadline, "the agent did not become ready within 90 s of its tracker's start");
            await Task.Delay(200);
        }

        // Ready means served: its first pull comes through the swarm.
        var (digest, content) = await PushBlobAsync("fresh/late", 8);
        using var response = await http.GetAsync($"/v2/fresh/late/blobs/{digest}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(content, await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(0, await agent.MetricAsync("p2pregistry_agent_fast_misses_total"));
    }

    private async Task<(string Digest, byte[] Content)> PushBlobAsync(string repository, int seed)
    {
        var content = new byte[BlobLength];
        new Random(seed).NextBytes(content);
        using var registry = new RegistryClient(_origin.BaseAddress);
        return (await registry.UploadBytesAsync(repository, content), content);
    }

    private Action<string> Log(string name) => line =>
    {
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
