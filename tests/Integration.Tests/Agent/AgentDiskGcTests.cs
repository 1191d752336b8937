using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using P2PRegistry.Integration.Tests.Swarm;
using P2PRegistry.Testing.Waiting;

namespace P2PRegistry.Integration.Tests.Agent;

/// <summary>
/// The agent's disk GC on a small real file system (a 128 MiB tmpfs holding its data folder), as processes: origin,
/// tracker, an agent, and containerd. More images are pulled through the agent than the file system holds; after each
/// pull the file system's usage (read with <c>df</c>) is at most the high threshold once the collector ran, a run that
/// evicted left it below the low one, the most recently used images stay cached, and every pull succeeds.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class AgentDiskGcTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string UnresolvableRegistry = "origin.invalid:5000";
    private const int ImageMiB = 16;
    private const int HighPercent = 85;
    private const int LowPercent = 80;

    private readonly TempDirectory _dir = new("agent-gc");
    private OriginProcess _origin = null!;
    private TrackerProcess _tracker = null!;

    public async Task InitializeAsync()
    {
        _origin = await OriginProcess.StartAsync(new OriginOptions { RegistryNames = [UnresolvableRegistry], OnOutputLine = Log("origin") });
        _tracker = await TrackerProcess.StartAsync(_origin.BaseAddress, Log("tracker"));
    }

    public async Task DisposeAsync()
    {
        try
        {
            await _tracker.DisposeAsync();
            await _origin.DisposeAsync();
        }
        finally
        {
            _dir.Dispose();
        }
    }

    [Fact]
    public async Task PullMoreImagesThanFit_UsageStaysBetweenThresholds_RecentImagesStay_EveryPullSucceeds()
    {
        // 8 images of ~17 MiB (a 16 MiB random layer, busybox, config) against 128 MiB: 85 % is ~109 MiB, so six fit.
        var layout = _dir.Combine("layout");
        var images = new List<OciImage>();
        for (var i = 0; i < 8; i++)
        {
            var image = await OciImageBuilder.BuildAsync(layout, $"img{i}", ImageMiB, seed: 1800 + i);
            await Skopeo.PushAsync(image.Reference, Skopeo.Docker(_origin.Host, $"gc/img{i}", "v1"), new SkopeoCopyOptions { PreserveDigests = true });
            images.Add(image);
        }

        await using var disk = await TmpfsMount.CreateAsync(128, "agent-gc-disk");
        var data = disk.Combine("agent");
        var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
        await using var agent = await AgentProcess.StartAsync("gc-agent", _tracker.GrpcUrl, _origin.BaseAddress, data, line =>
        {
            log.Enqueue(line);
            Log("agent")(line);
        },
            // The longest miss budget: on a loaded machine the origin's first MetaInfo of a 16 MiB layer took 20 s.
            "--Agent:MissTimeout=00:00:30",
            "--Agent:Gc:Interval=00:00:02",
            "--Agent:Gc:MinimumAge=00:00:01",
            $"--Agent:Gc:HighThresholdPercent={HighPercent}",
            $"--Agent:Gc:LowThresholdPercent={LowPercent}");

        // The agent measures the tmpfs (statvfs of its data folder), not the file system /tmp is on.
        var size = (await DfAsync(data)).Size;
        await Eventually.AssertAsync(async () => await agent.MetricAsync("p2pregistry_agent_gc_filesystem_size_bytes") == size, "the agent to report the tmpfs's size", timeout: TimeSpan.FromSeconds(90));

        using var http = new HttpClient { BaseAddress = agent.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
        var order = new[] { 0, 1, 2, 3, 4, 5, 0, 6 };
        var evictedAny = false;
        foreach (var index in order)
        {
            var before = await agent.MetricAsync("p2pregistry_agent_gc_blobs_evicted_total");
            await PullAsync(http, $"gc/img{index}", images[index]);
            var (used, _) = await SettleAsync(agent, data);
            var evicted = await agent.MetricAsync("p2pregistry_agent_gc_blobs_evicted_total") - before;
            output.WriteLine($"[test] pulled img{index}: {used >> 20} MiB of {size >> 20} MiB used ({100.0 * used / size:0.0} %), {evicted} blobs evicted");
            Assert.True(used * 100 <= size * HighPercent, $"after pulling img{index} the file system is {100.0 * used / size:0.0} % used, above {HighPercent} %");
            if (evicted > 0)
            {
                evictedAny = true;

                // Below the low threshold, but not far below: a run stops as soon as it is (at most one image more).
                Assert.True(used * 100 < size * LowPercent, $"a run evicted yet left {100.0 * used / size:0.0} % used");
                Assert.True(used > (size * LowPercent / 100) - (2L * (ImageMiB + 2) << 20), $"a run evicted far more than needed: {used >> 20} MiB left");
            }
        }

        Assert.True(evictedAny, "nothing was ever evicted: the images did not fill the file system");

        // The last image through real containerd (hosts.toml to the agent, server unresolvable).
        await using (var node = await ContainerdProcess.StartAsync(output.WriteLine))
        {
            var reference = $"{UnresolvableRegistry}/gc/img7:v1";
            node.WriteHostsToml(UnresolvableRegistry, new Uri($"http://{UnresolvableRegistry}"), agent.BaseAddress);
            await node.CtrOrThrowAsync(["images", "pull", "--hosts-dir", node.HostsDirectory, reference], TimeSpan.FromMinutes(2));
            await AgentPullTests.AssertUnpackedAsync(node, reference, images[7]);
        }

        var (finalUsed, _) = await SettleAsync(agent, data);
        Assert.True(finalUsed * 100 <= size * HighPercent, $"after the ctr pull the file system is {100.0 * finalUsed / size:0.0} % used");

        // The most recently used images (7, 6, then 0 pulled again, then 5) are cached whole; the least recently used went.
        foreach (var index in new[] { 7, 6, 0, 5 })
        {
            Assert.All(images[index].BlobDigests, digest => Assert.True(File.Exists(CachedPath(data, digest)), $"img{index}'s {digest} is not cached"));
        }

        // Its manifest too: pulled by tag again, so used again.
        foreach (var index in new[] { 7, 6, 0, 5 })
        {
            Assert.True(File.Exists(Path.Combine(data, "manifests", "sha256", images[index].ManifestDigest["sha256:".Length..])), $"img{index}'s manifest is not cached");
        }

        // A layer img1 shares with a kept image (umoci's base layer is identical when two images are built within the same
        // second) was used recently through that image: only img1's own layers are least recently used.
        var keptDigests = new[] { 7, 6, 0, 5 }.SelectMany(i => images[i].BlobDigests).ToHashSet();
        var img1Own = images[1].LayerDigests.Where(d => !keptDigests.Contains(d)).ToList();
        Assert.NotEmpty(img1Own);
        Assert.All(img1Own, digest =>
        {
            Assert.False(File.Exists(CachedPath(data, digest)), $"img1 (least recently used) still holds {digest}");
            Assert.False(File.Exists(Path.Combine(data, "metainfo", digest["sha256:".Length..])), $"the MetaInfo of evicted {digest} stayed");
        });

        Assert.Contains(log, line => line.Contains("Disk GC freed", StringComparison.Ordinal) && line.Contains("file system", StringComparison.Ordinal));
        Assert.True(await agent.MetricAsync("p2pregistry_agent_gc_bytes_evicted_bytes_total") > ImageMiB << 20);
    }

    /// <summary>Pulls as containerd does through the agent: the manifest by tag, then the config and every layer, each checked against its digest.</summary>
    private static async Task PullAsync(HttpClient http, string repository, OciImage image)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v2/{repository}/manifests/v1?ns={UnresolvableRegistry}");
        request.Headers.Accept.ParseAdd("application/vnd.oci.image.manifest.v1+json");
        request.Headers.Accept.ParseAdd("application/vnd.oci.image.index.v1+json");
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var manifestBytes = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(image.ManifestDigest, "sha256:" + Convert.ToHexStringLower(SHA256.HashData(manifestBytes)));
        var manifest = JsonNode.Parse(manifestBytes)!;
        var digests = new List<string> { (string)manifest["config"]!["digest"]! };
        digests.AddRange(manifest["layers"]!.AsArray().Select(l => (string)l!["digest"]!));
        Assert.Equal(image.BlobDigests, digests);
        foreach (var digest in digests)
        {
            // A fast miss (404 when the MetaInfo or a first source takes longer than Agent:MissTimeout) sends containerd
            // to its next host, and a pull retries; this one retries twice, then fails.
            for (var attempt = 1; ; attempt++)
            {
                using var blob = await http.GetAsync($"/v2/{repository}/blobs/{digest}?ns={UnresolvableRegistry}", HttpCompletionOption.ResponseHeadersRead);
                if (blob.StatusCode == HttpStatusCode.NotFound && attempt < 3)
                {
                    continue;
                }

                Assert.True(blob.StatusCode == HttpStatusCode.OK, $"GET {digest} of {repository}: {(int)blob.StatusCode} (attempt {attempt})");
                await using var body = await blob.Content.ReadAsStreamAsync();
                Assert.Equal(digest, "sha256:" + Convert.ToHexStringLower(await SHA256.HashDataAsync(body)));
                break;
            }
        }
    }

    /// <summary>Waits for a collector run that started after now to finish (the admission of the last blob asked for one), then reads df.</summary>
    private static async Task<(long Used, long Size)> SettleAsync(AgentProcess agent, string data)
    {
        var runs = await agent.MetricAsync("p2pregistry_agent_gc_runs_total");
        await Eventually.AssertAsync(async () => await agent.MetricAsync("p2pregistry_agent_gc_runs_total") >= runs + 2, "two more collector runs", timeout: TimeSpan.FromSeconds(90));
        return await DfAsync(data);
    }

    /// <summary><c>df -B1 --output=used,avail,size</c>: used counts as size minus what is available, as the agent does.</summary>
    private static async Task<(long Used, long Size)> DfAsync(string path)
    {
        var result = await ProcessRunner.RunOrThrowAsync("df", ["-B1", "--output=avail,size", path], TimeSpan.FromSeconds(30));
        var fields = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries)[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var available = long.Parse(fields[0], CultureInfo.InvariantCulture);
        var size = long.Parse(fields[1], CultureInfo.InvariantCulture);
        return (size - available, size);
    }

    private static string CachedPath(string data, string digest) => Path.Combine(data, "cache", "sha256", digest["sha256:".Length..]);

    private Action<string> Log(string name) => line =>
    {
        try
        {
            output.WriteLine($"[{name}] {line}");
        }
        catch (InvalidOperationException)
        {
            // The test ended; the process is being stopped.
        }
    };
}
