using System.Net;
using System.Security.Cryptography;
using P2PRegistry.Integration.Tests.Origin;
using P2PRegistry.Integration.Tests.Swarm;
using P2PRegistry.Testing.Waiting;

namespace P2PRegistry.Integration.Tests.Agent;

/// <summary>
/// What a crash or a bad sector leaves on an agent's disk is never served, as processes: origin, tracker, agents, and
/// containerd pulling through a hosts.toml whose <c>server</c> does not resolve (every byte comes through the agent).
/// A byte is flipped in a cached layer, or in a piece the resume file of a partial download marks verified, while the
/// agent is stopped; after the restart containerd, a plain GET and a peer agent all get the right bytes.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class AgentDurabilityTests(ITestOutputHelper output) : IAsyncLifetime
{
    // These agents must serve, not fall back: a source that exists is waited for (Agent:SourceTimeout) however loaded the
    // machine; Agent:MissTimeout keeps its default, the answer when no source exists.
    private const string PatientSources = "--Agent:SourceTimeout=00:00:30";

    // The read path and the seed must catch the flipped byte on their own: the background sha256 would otherwise race them.
    private const string NoBackgroundCheck = "--Agent:VerifyCacheInBackground=false";
    private const string UnresolvableRegistry = "origin.invalid:5000";

    private readonly TempDirectory _dir = new("agent-durable");
    private OriginProcess _origin = null!;
    private TrackerProcess _tracker = null!;

    public async Task InitializeAsync()
    {
        // Not super-seeding: a super-seeding origin showed a lone leecher no new piece for 30 s after the leecher's only
        // other source (the restarted agent, which stops seeding the corrupt layer) left; that stall is the origin's,
        // not what this test is about. containerd pulls origin.invalid:5000/…, the name clients use for this origin.
        _origin = await OriginProcess.StartAsync(new OriginOptions
        {
            OnOutputLine = Log("origin"),
            RegistryNames = [UnresolvableRegistry],
            ExtraArguments = ["--Origin:Peer:SuperSeed=false"],
        });
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
    public async Task CachedLayerFlippedWhileStopped_Restarted_NeitherAPeerNorContainerdGetsTheBadByte()
    {
        var image = (await TestImages.GetAsync()).Big;
        await Skopeo.PushAsync(image.Reference, Skopeo.Docker(_origin.Host, "durable/big", "v1"), new SkopeoCopyOptions { PreserveDigests = true });
        var layer = image.Layers.MaxBy(l => l.Size)!;
        var layerPath = $"/v2/durable/big/blobs/{layer.Digest}";
        var data = _dir.CreateSubdirectory("a");
        var cached = Path.Combine(data, "cache", "sha256", layer.Digest["sha256:".Length..]);

        await using (var first = await AgentProcess.StartAsync("a-1", _tracker.GrpcUrl, _origin.BaseAddress, data, Log("a-1"), PatientSources))
        {
            Assert.Equal(layer.Digest, await GetDigestAsync(first, layerPath));
            await Eventually.AssertAsync(() => File.Exists(cached), "the layer to enter a-1's cache", timeout: TimeSpan.FromSeconds(60));
        }

        // A bad sector while the agent is down: one byte of piece 5 of the cached layer.
        var pieceLength = P2PRegistry.Core.MetaInfos.PieceLength.For(layer.Size);
        FileDamage.FlipByte(cached, 5L * pieceLength + 123);

        var restartedLog = new System.Collections.Concurrent.ConcurrentQueue<string>();
        await using var restarted = await AgentProcess.StartAsync("a-2", _tracker.GrpcUrl, _origin.BaseAddress, data, line =>
        {
            restartedLog.Enqueue(line);
            Log("a-2")(line);
        }, PatientSources, NoBackgroundCheck);

        // A peer agent first, while the restarted one still seeds the layer: it must never be sent the bad piece
        // (it would fail its SHA-1, and the peer would blacklist the sender).
        await using (var peer = await AgentProcess.StartAsync("peer", _tracker.GrpcUrl, _origin.BaseAddress, Log("peer"), PatientSources))
        {
            Assert.Equal(layer.Digest, await GetDigestAsync(peer, layerPath));
            Assert.Equal(0, await peer.MetricAsync("p2pregistry_swarm_peers_blacklisted_total"));
            Assert.Equal(0, await peer.MetricAsync("p2pregistry_swarm_pieces_failed_total"));
        }

        // A GET as containerd sends it: unless the peer's requests found the bad piece first, this one finds it after
        // the response started and is cut (never a whole body of bad bytes); containerd would retry, and so do we.
        var firstGet = await GetDigestOrCutAsync(restarted, layerPath);
        output.WriteLine($"[test] the first GET after the restart: {firstGet ?? "cut"}");
        Assert.True(firstGet is null || firstGet == layer.Digest, $"a whole response of bad bytes: {firstGet}");
        Assert.Equal(layer.Digest, await GetDigestAsync(restarted, layerPath));

        // Then a real pull: the right bytes.
        await using (var node = await ContainerdProcess.StartAsync(output.WriteLine))
        {
            var reference = $"{UnresolvableRegistry}/durable/big:v1";
            node.WriteHostsToml(UnresolvableRegistry, new Uri($"http://{UnresolvableRegistry}"), restarted.BaseAddress);
            await node.CtrOrThrowAsync(["images", "pull", "--hosts-dir", node.HostsDirectory, reference], TimeSpan.FromMinutes(2));
            await AgentPullTests.AssertUnpackedAsync(node, reference, image);
        }

        Assert.Contains(restartedLog, line => line.Contains($"Cached blob {layer.Digest} is corrupt on disk", StringComparison.Ordinal));
        Assert.Equal(1, await restarted.MetricAsync("p2pregistry_agent_cache_corrupt_total"));
        await Eventually.AssertAsync(() => File.Exists(cached), "the layer to be fetched again into the cache", timeout: TimeSpan.FromSeconds(60));
        Assert.Equal(layer.Digest, SwarmBlob.DigestOf(cached).Value);
    }

    [Fact]
    public async Task PartialDownloadPieceFlippedWhileKilled_Restarted_CompletesWithCorrectBytes()
    {
        var blob = SwarmBlob.Create(_dir.Combine("blob"), 96, seed: 18);
        using (var registry = new RegistryClient(_origin.BaseAddress))
        {
            Assert.Equal(HttpStatusCode.Created, await registry.UploadFileAsync("durable/partial", blob.Path, blob.Digest.Value));
        }

        var blobPath = $"/v2/durable/partial/blobs/{blob.Digest}";
        var data = _dir.CreateSubdirectory("partial");
        var download = Path.Combine(data, "download", blob.Digest.Hex);
        var pieceLength = P2PRegistry.Core.MetaInfos.PieceLength.For(blob.Length);
        int flipped;
        await using (var first = await AgentProcess.StartAsync("partial-1", _tracker.GrpcUrl, _origin.BaseAddress, data, Log("partial-1"),
            PatientSources, "--Agent:IngressBytesPerSecond=16777216", "--Swarm:ResumeFlushInterval=00:00:00.2"))
        {
            using var http = new HttpClient { BaseAddress = first.BaseAddress, Timeout = TimeSpan.FromMinutes(3) };
            using var response = await http.GetAsync(blobPath, HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await using var body = await response.Content.ReadAsStreamAsync();
            await body.ReadExactlyAsync(new byte[24 * 1024 * 1024]);
            await Eventually.AssertAsync(() => RecordedPieces(download + ".pieces").Count >= 4, "the resume file to record pieces", timeout: TimeSpan.FromSeconds(60));

            // A crash: no shutdown code runs.
            first.Process.Kill();
            var recorded = RecordedPieces(download + ".pieces");
            flipped = recorded[recorded.Count / 2];
            output.WriteLine($"[test] {recorded.Count} pieces recorded at the kill; flipping a byte of piece {flipped}");
        }

        FileDamage.FlipByte(download, (long)flipped * pieceLength + 4321);

        var secondLog = new System.Collections.Concurrent.ConcurrentQueue<string>();
        await using var second = await AgentProcess.StartAsync("partial-2", _tracker.GrpcUrl, _origin.BaseAddress, data, line =>
        {
            secondLog.Enqueue(line);
            Log("partial-2")(line);
        }, PatientSources);

        Assert.Equal(blob.Digest.Value, await GetDigestAsync(second, blobPath));
        Assert.Contains(secondLog, line => line.Contains($"Resumed download {blob.Digest}: 1 of the", StringComparison.Ordinal));
        Assert.Equal(1, await second.MetricAsync("p2pregistry_swarm_resumed_pieces_discarded_total"));
    }

    /// <summary>The pieces a download's resume file names: "P2PB", version, 20-byte info hash, then the BEP 3 bitfield.</summary>
    private static List<int> RecordedPieces(string path)
    {
        if (!File.Exists(path))
        {
            return [];
        }

        var bytes = File.ReadAllBytes(path);
        Assert.True(bytes.Length > 25 && bytes.AsSpan(0, 4).SequenceEqual("P2PB"u8), $"{path} is not a resume file");
        var pieces = new List<int>();
        for (var i = 0; i < (bytes.Length - 25) * 8; i++)
        {
            if ((bytes[25 + (i >> 3)] & (0x80 >> (i & 7))) != 0)
            {
                pieces.Add(i);
            }
        }

        return pieces;
    }

    private static async Task<string> GetDigestAsync(AgentProcess agent, string path)
    {
        using var http = new HttpClient { BaseAddress = agent.BaseAddress, Timeout = TimeSpan.FromMinutes(3) };
        using var response = await http.GetAsync(path, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await using var body = await response.Content.ReadAsStreamAsync();
        return "sha256:" + Convert.ToHexStringLower(await SHA256.HashDataAsync(body));
    }

    /// <summary>The digest of a whole 200 response, or null when the agent cut the connection mid-body.</summary>
    private static async Task<string?> GetDigestOrCutAsync(AgentProcess agent, string path)
    {
        try
        {
            return await GetDigestAsync(agent, path);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            return null;
        }
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
