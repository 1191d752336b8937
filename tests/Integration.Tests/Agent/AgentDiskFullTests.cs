using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using P2PRegistry.Integration.Tests.Swarm;
using P2PRegistry.Testing.Waiting;

namespace P2PRegistry.Integration.Tests.Agent;

/// <summary>
/// One agent (a real process) whose data folder is a 48 MiB tmpfs, with <c>metainfo/</c> and <c>cache/</c> on tmpfs
/// mounts of their own (symlinked in, so a full cache makes the move into it a copy that fails), filled in turn with
/// a ballast file: a download bigger than the free space, a MetaInfo write, a cache admission and a manifest fetch
/// on a full disk each give a fast miss (or, for a manifest, the bytes from memory), leave no file behind and count
/// <c>disk_full</c> for their write path; containerd pulls through the full agent by falling back to the registry; and
/// once the ballast is gone the same process serves and caches everything again.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class AgentDiskFullTests(ITestOutputHelper output)
{
    private const string Repository = "disk/full";
    // "Fast" = an answer, not a hang (containerd waits as long as the agent does): well below the client's 2 minutes,
    // loose enough for a cold MetaInfo fetch on a loaded 2-core machine. That the miss came from the full disk is shown
    // by the disk_full counter each case waits for, not by the time.
    private static readonly TimeSpan MissBound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task FullDataFolder_OnEveryWritePath_FastMissOrServedFromMemory_NothingLeft_AndWorksOnceSpaceIsBack()
    {
        await using var data = await TmpfsMount.CreateAsync(48, "agent-data");
        await using var metaInfoDisk = await TmpfsMount.CreateAsync(1, "agent-metainfo");
        await using var cacheDisk = await TmpfsMount.CreateAsync(40, "agent-cache");
        Directory.CreateSymbolicLink(data.Combine("metainfo"), metaInfoDisk.Path);
        Directory.CreateSymbolicLink(data.Combine("cache"), cacheDisk.Path);

        using var work = new TempDirectory("agent-disk-full");
        var image = await OciImageBuilder.BuildAsync(work.Combine("layout"), "v1", randomMiB: 20, seed: 181);
        var originPort = FreePort.Next();
        var ns = $"127.0.0.1:{originPort}";
        await using var origin = await OriginProcess.StartAsync(new OriginOptions { Port = originPort, RegistryNames = [ns], OnOutputLine = Log("origin") });
        await using var tracker = await TrackerProcess.StartAsync(origin.BaseAddress, Log("tracker"));
        await Skopeo.PushAsync(image.Reference, Skopeo.Docker(origin.Host, Repository, "v1"), new SkopeoCopyOptions { PreserveDigests = true });
        await using var agent = await AgentProcess.StartAsync("agent-disk-full", tracker.GrpcUrl, origin.BaseAddress, data.Path, Log("agent"), "--Agent:MissTimeout=00:00:10");
        using var http = new HttpClient { BaseAddress = agent.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
        var big = image.Layers.MaxBy(l => l.Size)!;
        Assert.True(big.Size > 20L * 1024 * 1024, $"the random layer is {big.Size} bytes");

        // 1. A download bigger than the free space: refused at its preallocation, a fast miss, no file in download/.
        var ballast = data.Fill("ballast", data.FreeBytes - 8L * 1024 * 1024);
        output.WriteLine($"[test] data ballast {ballast} bytes, {data.FreeBytes} free");
        await AssertFastMissAsync(http, BlobPath(big.Digest, ns));
        await WaitForDiskFullAsync(agent, "download");
        await AssertNoLeftoversAsync(data.Path);
        File.Delete(data.Combine("ballast"));

        // 2. The MetaInfo cannot be kept: the blob does not enter the cache, its download goes, no temp file stays.
        metaInfoDisk.Fill("ballast");
        await AssertServedOrMissedAsync(http, BlobPath(big.Digest, ns), big.Digest);
        await WaitForDiskFullAsync(agent, "metainfo");
        await AssertNoLeftoversAsync(data.Path);
        Assert.False(File.Exists(cacheDisk.Combine("sha256", Hex(big.Digest))), "a blob without its MetaInfo entered the cache");
        File.Delete(metaInfoDisk.Combine("ballast"));

        // 3. The cache (another file system here: the move is a copy) is full: no partial copy, no orphan MetaInfo.
        cacheDisk.Fill("ballast");
        await AssertServedOrMissedAsync(http, BlobPath(big.Digest, ns), big.Digest);
        await WaitForDiskFullAsync(agent, "cache");
        await AssertNoLeftoversAsync(data.Path);
        Assert.Equal(["ballast"], Directory.GetFiles(cacheDisk.Path, "*", SearchOption.AllDirectories).Select(Path.GetFileName));
        Assert.Empty(Directory.GetFiles(metaInfoDisk.Path));
        File.Delete(cacheDisk.Combine("ballast"));

        // 4. Everything full: a manifest is still served (from memory, not cached), a blob is a fast miss, and
        // containerd pulls the whole image by falling back to the registry.
        data.Fill("ballast");
        output.WriteLine($"[test] data full, {data.FreeBytes} free");
        using (var manifest = await http.GetAsync($"/v2/{Repository}/manifests/{image.ManifestDigest}?ns={Uri.EscapeDataString(ns)}"))
        {
            Assert.Equal(HttpStatusCode.OK, manifest.StatusCode);
            Assert.Equal(image.ManifestDigest, Digest(await manifest.Content.ReadAsByteArrayAsync()));
        }

        await WaitForDiskFullAsync(agent, "manifest");
        Assert.False(File.Exists(Path.Combine(data.Path, "manifests", "sha256", Hex(image.ManifestDigest))), "a manifest was cached on a full disk");
        await AssertFastMissAsync(http, BlobPath(image.ConfigDigest, ns));
        await using (var node = await ContainerdProcess.StartAsync(Log("containerd")))
        {
            var reference = $"{ns}/{Repository}:v1";
            node.WriteHostsToml(ns, origin.BaseAddress, agent.BaseAddress);
            await node.CtrOrThrowAsync(["images", "pull", "--hosts-dir", node.HostsDirectory, reference], TimeSpan.FromMinutes(2));
            await AgentPullTests.AssertUnpackedAsync(node, reference, image);
        }

        await AssertNoLeftoversAsync(data.Path);

        // 5. Space is back: the same process downloads, keeps and caches again, with the right bytes.
        File.Delete(data.Combine("ballast"));
        foreach (var digest in image.BlobDigests)
        {
            using var blob = await http.GetAsync(BlobPath(digest, ns));
            Assert.Equal(HttpStatusCode.OK, blob.StatusCode);
            Assert.Equal(digest, Digest(await blob.Content.ReadAsByteArrayAsync()));
            await Eventually.AssertAsync(() => File.Exists(cacheDisk.Combine("sha256", Hex(digest))) && File.Exists(metaInfoDisk.Combine(Hex(digest))), $"{digest} cached with its MetaInfo", timeout: TimeSpan.FromSeconds(60));
        }

        using (var manifest = await http.GetAsync($"/v2/{Repository}/manifests/{image.ManifestDigest}?ns={Uri.EscapeDataString(ns)}"))
        {
            Assert.Equal(HttpStatusCode.OK, manifest.StatusCode);
            Assert.Equal(image.ManifestDigest, Digest(await manifest.Content.ReadAsByteArrayAsync()));
        }

        Assert.True(File.Exists(Path.Combine(data.Path, "manifests", "sha256", Hex(image.ManifestDigest))), "the manifest was not cached once space was back");
        await AssertNoLeftoversAsync(data.Path);
    }

    [Fact]
    public async Task BlobNoOriginHoldsYet_BiggerThanTheFreeSpace_FastMissBeforeItStreams_NothingLeft_AndStreamsOnceSpaceIsBack()
    {
        const string upstreamName = "upstream.agent-disk.test:5000";
        await using var upstream = await DockerRegistryProcess.StartAsync(new DockerRegistryOptions { OnOutputLine = Log("upstream") });
        using var work = new TempDirectory("agent-disk-stream");
        var image = await OciImageBuilder.BuildAsync(work.Combine("layout"), "v1", randomMiB: 16, seed: 182);
        await Skopeo.PushAsync(image.Reference, Skopeo.Docker(upstream.Host, Repository, "v1"), new SkopeoCopyOptions { PreserveDigests = true });
        await using var origin = await OriginProcess.StartAsync(new OriginOptions
        {
            ExtraArguments = [$"--Origin:Upstreams:0:Name={upstreamName}", $"--Origin:Upstreams:0:Url={upstream.BaseAddress}", "--Origin:Upstreams:0:AllowHttp=true"],
            OnOutputLine = Log("origin"),
        });
        await using var tracker = await TrackerProcess.StartAsync(origin.BaseAddress, Log("tracker"));
        await using var data = await TmpfsMount.CreateAsync(32, "agent-stream-data");
        await using var agent = await AgentProcess.StartAsync("agent-disk-stream", tracker.GrpcUrl, origin.BaseAddress, data.Path, Log("agent"), "--Agent:MissTimeout=00:00:10");
        using var http = new HttpClient { BaseAddress = agent.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
        var big = image.Layers.MaxBy(l => l.Size)!;

        // No origin holds the blob yet: the agent streams it from the origin's pull-through, into a file it preallocates.
        data.Fill("ballast", data.FreeBytes - 8L * 1024 * 1024);
        await AssertFastMissAsync(http, BlobPath(big.Digest, upstreamName));
        await WaitForDiskFullAsync(agent, "download");
        await AssertNoLeftoversAsync(data.Path);

        File.Delete(data.Combine("ballast"));
        using var blob = await http.GetAsync(BlobPath(big.Digest, upstreamName));
        Assert.Equal(HttpStatusCode.OK, blob.StatusCode);
        Assert.Equal(big.Digest, Digest(await blob.Content.ReadAsByteArrayAsync()));
        await Eventually.AssertAsync(() => File.Exists(Path.Combine(data.Path, "cache", "sha256", Hex(big.Digest))), $"{big.Digest} cached", timeout: TimeSpan.FromSeconds(60));
        await AssertNoLeftoversAsync(data.Path);
    }

    private static string BlobPath(string digest, string ns) => $"/v2/{Repository}/blobs/{digest}?ns={Uri.EscapeDataString(ns)}";

    private async Task AssertFastMissAsync(HttpClient http, string path)
    {
        var clock = Stopwatch.StartNew();
        using var response = await http.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        output.WriteLine($"[test] GET {path}: {(int)response.StatusCode} in {clock.ElapsedMilliseconds} ms: {body}");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.True(clock.Elapsed < MissBound, $"the miss took {clock.Elapsed}");
        using var json = JsonDocument.Parse(body);
        Assert.Equal("BLOB_UNKNOWN", json.RootElement.GetProperty("errors")[0].GetProperty("code").GetString());
    }

    /// <summary>
    /// A write after the download (MetaInfo, cache) failed: the client gets the verified bytes it was streaming
    /// already, or a fast miss when it came too late to stream — never wrong bytes, a 500 or a hang.
    /// </summary>
    private async Task AssertServedOrMissedAsync(HttpClient http, string path, string digest)
    {
        var clock = Stopwatch.StartNew();
        using var response = await http.GetAsync(path);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        output.WriteLine($"[test] GET {path}: {(int)response.StatusCode}, {bytes.Length} bytes in {clock.ElapsedMilliseconds} ms");
        if (response.StatusCode == HttpStatusCode.OK)
        {
            Assert.Equal(digest, Digest(bytes));
        }
        else
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }
    }

    /// <summary>
    /// No temp file anywhere under the data folder (symlinked mounts included) and nothing in download/. A finished
    /// download's resume file goes just after its blob enters the cache, so this waits (bounded) for the folder to settle.
    /// </summary>
    private async Task AssertNoLeftoversAsync(string dataPath)
    {
        await Eventually.AssertAsync(() => Task.FromResult(Leftovers(dataPath).Count == 0), $"no leftovers under the data folder (at first: {string.Join(", ", Leftovers(dataPath))})", timeout: TimeSpan.FromSeconds(60));
        output.WriteLine($"[test] data folder: {string.Join(", ", Files(dataPath))}");
    }

    private static List<string> Leftovers(string dataPath)
    {
        var all = Files(dataPath);
        return all.Where(f => f.EndsWith(".tmp", StringComparison.Ordinal)
            || f.StartsWith("download", StringComparison.Ordinal)
            || (f.EndsWith(".type", StringComparison.Ordinal) && !all.Contains(f[..^".type".Length]))).ToList();
    }

    private static List<string> Files(string dataPath)
    {
        var all = new List<string>();
        foreach (var folder in new[] { "download", "manifests", "metainfo", "cache" })
        {
            var path = Path.Combine(dataPath, folder);
            if (Directory.Exists(path))
            {
                all.AddRange(Directory.GetFiles(path + "/", "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(dataPath, f)));
            }
        }

        return all;
    }

    private static async Task WaitForDiskFullAsync(AgentProcess agent, string writePath) =>
        await Eventually.AssertAsync(async () => await DiskFullCountAsync(agent, writePath) >= 1, $"disk_full{{path=\"{writePath}\"}} counted", timeout: TimeSpan.FromSeconds(60));

    private static async Task<long> DiskFullCountAsync(AgentProcess agent, string writePath)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var text = await http.GetStringAsync(new Uri(agent.BaseAddress, "/metrics"));
        return text.Split('\n')
            .Where(l => l.StartsWith("p2pregistry_agent_disk_full", StringComparison.Ordinal) && l.Contains($"path=\"{writePath}\"", StringComparison.Ordinal))
            .Sum(l => (long)double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
    }

    private static string Hex(string digest) => digest["sha256:".Length..];

    private static string Digest(byte[] content) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(content));

    private Action<string> Log(string name) => line =>
    {
        try
        {
            output.WriteLine($"[{name}] {line}");
        }
        catch (InvalidOperationException)
        {
        }
    };
}
