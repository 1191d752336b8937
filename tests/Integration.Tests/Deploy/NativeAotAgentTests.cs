using System.Net;
using System.Security.Cryptography;
using P2PRegistry.Integration.Tests.Agent;
using P2PRegistry.Integration.Tests.Swarm;
using P2PRegistry.Testing.Assemblies;
using P2PRegistry.Testing.Waiting;

namespace P2PRegistry.Integration.Tests.Deploy;

/// <summary>
/// The agent as shipped (<c>deploy/docker/publish.sh</c>, which <see cref="ContainerImagesFixture"/> runs and the agent
/// image copies) is Native AOT: one native executable and no managed assembly, so no .NET runtime and no JIT on the
/// node. And that executable does the whole job of an agent (what a trimmed build can get wrong: code reached only by
/// reflection, a shutdown path): it becomes ready, pulls a blob cold, seeds it to a second agent once the origin is
/// gone, and both exit cleanly on SIGTERM.
/// </summary>
[Collection(ContainerImagesCollection.Name)]
[Trait("Category", TestCategories.Integration)]
public sealed class NativeAotAgentTests
{
    private const int BlobLength = 24 * 1024 * 1024;
    private const string Program = "P2PRegistry.Agent";
    private readonly ContainerImagesFixture _fixture;
    private readonly ITestOutputHelper _output;

    public NativeAotAgentTests(ContainerImagesFixture fixture, ITestOutputHelper output)
    {
        _fixture = fixture;
        _output = output;
        fixture.Output.Attach(output);
    }

    private string PublishedAgent => Path.Combine(_fixture.PublishPath, "agent");

    [Fact]
    public void AgentPublish_IsOneNativeExecutable_NoManagedAssembly()
    {
        var program = Path.Combine(PublishedAgent, Program);
        Assert.True(File.Exists(program), $"publish.sh wrote no {program}");
        Assert.True(ProgramImage.IsElf(program), $"{program} is not a native (ELF) executable");
        Assert.False(File.Exists(Path.Combine(PublishedAgent, Program + ".dll")), "publish.sh wrote the agent as an assembly (not Native AOT)");
        var managed = Directory.EnumerateFiles(PublishedAgent, "*", SearchOption.AllDirectories).Where(ProgramImage.IsManagedAssembly).ToList();
        Assert.True(managed.Count == 0, "managed assemblies in the published agent: " + string.Join(", ", managed.Select(Path.GetFileName)));
    }

    [Fact]
    public async Task PublishedAgent_ColdPull_ThenSeedsASecondAgentWithTheOriginStopped_BothExitOnSigterm()
    {
        var program = Path.Combine(PublishedAgent, Program);
        var origin = await OriginProcess.StartAsync(new OriginOptions { OnOutputLine = Log("origin") });
        try
        {
            await using var tracker = await TrackerProcess.StartAsync(origin.BaseAddress, Log("tracker"));
            var content = new byte[BlobLength];
            new Random(1717).NextBytes(content);
            string digest;
            using (var registry = new RegistryClient(origin.BaseAddress))
            {
                digest = await registry.UploadBytesAsync("aot/blob", content);
            }

            // Generous waits for a source: a loaded machine must not turn a pull into a fast 404.
            string[] patient = ["--Agent:MissTimeout=00:00:30", "--Agent:SourceTimeout=00:00:30"];
            await using var first = await AgentProcess.StartExecutableAsync(program, "aot-first", tracker.GrpcUrl, origin.BaseAddress, Log("aot-first"), patient);
            Assert.Equal(content, await PullAsync(first, digest));

            // Every byte of the second pull comes from the first agent: the origin is gone (the tracker keeps the MetaInfo).
            await origin.StopAsync();
            await using var second = await AgentProcess.StartExecutableAsync(program, "aot-second", tracker.GrpcUrl, origin.BaseAddress, Log("aot-second"), patient);
            Assert.Equal(content, await PullAsync(second, digest));
            // Counted as the download enters the cache, just after the client's last byte.
            await Eventually.AssertAsync(async () => await second.MetricAsync("p2pregistry_agent_bytes_from_peers_bytes_total") == BlobLength, "every byte of the second pull counted as from peers");
            Assert.Equal(0, await second.MetricAsync("p2pregistry_agent_fast_misses_total"));

            // SIGTERM: each exits by itself with 0 (ManagedProcess sends SIGKILL only after the grace period, and a
            // killed process exits with 137).
            foreach (var agent in new[] { second, first })
            {
                await agent.Process.StopAsync(TimeSpan.FromSeconds(60));
                Assert.True(agent.Process.ExitCode == 0, $"{agent.Process.Name} did not exit cleanly on SIGTERM: {agent.Process.Describe()}");
            }
        }
        finally
        {
            await origin.DisposeAsync();
        }
    }

    private static async Task<byte[]> PullAsync(AgentProcess agent, string digest)
    {
        using var http = new HttpClient { BaseAddress = agent.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
        using var response = await http.GetAsync($"/v2/aot/blob/blobs/{digest}");
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{agent.Process.Name} answered {(int)response.StatusCode}: {agent.Process.Describe()}");
        var body = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(digest, "sha256:" + Convert.ToHexStringLower(SHA256.HashData(body)));
        return body;
    }

    private Action<string> Log(string name) => line =>
    {
        try
        {
            _output.WriteLine($"[{name}] {line}");
        }
        catch (InvalidOperationException)
        {
            // Output after the test ended.
        }
    };
}
