using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using P2PRegistry.Integration.Tests.Swarm;

namespace P2PRegistry.Integration.Tests.Agent;

/// <summary>An origin whose upload is throttled (32 MiB/s), its tracker, and a cold 256 MiB blob pushed to it.</summary>
public sealed class ColdBlobFixture : IAsyncLifetime
{
    public const long OriginEgressBytesPerSecond = 32L * 1024 * 1024;

    internal TestOutputSink Output { get; } = new();

    internal TempDirectory Directory { get; } = new("agent-cold");

    internal OriginProcess Origin { get; private set; } = null!;

    internal TrackerProcess Tracker { get; private set; } = null!;

    internal SwarmBlob Blob { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Origin = await OriginProcess.StartAsync(new P2PRegistry.Testing.Registries.OriginOptions
        {
            OnOutputLine = Output.WriteLine,
            ExtraArguments = [$"--Swarm:EgressBytesPerSecond={OriginEgressBytesPerSecond}"],
        });
        Tracker = await TrackerProcess.StartAsync(Origin.BaseAddress, Output.WriteLine);
        Blob = SwarmBlob.Create(Directory.Combine("blob"), 256, seed: 256);
        using var registry = new RegistryClient(Origin.BaseAddress);
        Assert.Equal(HttpStatusCode.Created, await registry.UploadFileAsync("agent/cold", Blob.Path, Blob.Digest.Value));
    }

    public async Task DisposeAsync()
    {
        try
        {
            await Tracker.DisposeAsync();
            await Origin.DisposeAsync();
        }
        finally
        {
            Directory.Dispose();
        }
    }
}

/// <summary>
/// A cold 256 MiB blob through real agent processes: bytes reach the client while the agent's download is still
/// running, a Range on a cold blob is a correct 206, and an agent SIGKILLed mid-download resumes from its verified
/// pieces after a restart.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class AgentColdBlobTests : IClassFixture<ColdBlobFixture>, IDisposable
{
    // These agents must serve, not fall back: a source that exists is waited for (Agent:SourceTimeout) however loaded the
    // machine; Agent:MissTimeout keeps its default, the answer when no source exists.
    private const string PatientSources = "--Agent:SourceTimeout=00:00:30";
    private readonly ColdBlobFixture _fixture;

    public AgentColdBlobTests(ColdBlobFixture fixture, ITestOutputHelper output)
    {
        _fixture = fixture;
        fixture.Output.Attach(output);
    }

    public void Dispose() => _fixture.Output.Attach(null);

    private string BlobPath => $"/v2/agent/cold/blobs/{_fixture.Blob.Digest}";

    [Fact]
    public async Task Cold256MiB_FirstBytesArriveWhileTheAgentStillDownloads_AndARangeOnAColdBlobIs206()
    {
        await using var agent = await AgentProcess.StartAsync("stream", _fixture.Tracker.GrpcUrl, _fixture.Origin.BaseAddress, _fixture.Output.WriteLine, PatientSources);
        using var http = new HttpClient { BaseAddress = agent.BaseAddress, Timeout = TimeSpan.FromMinutes(3) };

        using var response = await http.GetAsync(BlobPath, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(_fixture.Blob.Length, response.Content.Headers.ContentLength);
        await using var body = await response.Content.ReadAsStreamAsync();
        var first = new byte[1024 * 1024];
        await body.ReadExactlyAsync(first);

        // The origin sends at most 32 MiB/s: the 256 MiB download needs ~8 s, and it is still under way now.
        var active = await agent.MetricAsync("p2pregistry_agent_active_downloads");
        Assert.Equal(1, active);
        Assert.NotEmpty(System.IO.Directory.GetFiles(Path.Combine(agent.DataPath, "download")));
        Assert.Equal(0, await agent.MetricAsync("p2pregistry_agent_cache_hits_total"));

        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(first);
        var buffer = new byte[1024 * 1024];
        long total = first.Length;
        int read;
        while ((read = await body.ReadAsync(buffer)) > 0)
        {
            sha.AppendData(buffer, 0, read);
            total += read;
        }

        Assert.Equal(_fixture.Blob.Length, total);
        Assert.Equal(_fixture.Blob.Digest.Hex, Convert.ToHexStringLower(sha.GetHashAndReset()));

        // Another agent, for which the blob is cold: a Range from 200 MiB on is a 206 with exactly those bytes.
        await using var other = await AgentProcess.StartAsync("range", _fixture.Tracker.GrpcUrl, _fixture.Origin.BaseAddress, _fixture.Output.WriteLine, PatientSources);
        using var otherHttp = new HttpClient { BaseAddress = other.BaseAddress, Timeout = TimeSpan.FromMinutes(3) };
        const long start = 200L * 1024 * 1024;
        using var request = new HttpRequestMessage(HttpMethod.Get, BlobPath);
        request.Headers.Range = new RangeHeaderValue(start, null);
        using var ranged = await otherHttp.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.PartialContent, ranged.StatusCode);
        Assert.Equal($"bytes {start}-{_fixture.Blob.Length - 1}/{_fixture.Blob.Length}", ranged.Content.Headers.ContentRange!.ToString());
        var tail = await ranged.Content.ReadAsByteArrayAsync();
        var expected = new byte[_fixture.Blob.Length - start];
        await using (var file = File.OpenRead(_fixture.Blob.Path))
        {
            file.Seek(start, SeekOrigin.Begin);
            await file.ReadExactlyAsync(expected);
        }

        Assert.Equal(expected, tail);
    }

    [Fact]
    public async Task AgentKilledMidDownload_Restarted_DoesNotFetchItsVerifiedPiecesAgain()
    {
        using var data = new TempDirectory("agent-restart");
        const long ingress = 16L * 1024 * 1024;
        long verifiedBytes;
        int pieceLength;
        var bitfield = Path.Combine(data.Path, "download", _fixture.Blob.Digest.Hex + ".pieces");
        await using (var first = await AgentProcess.StartAsync("restart-1", _fixture.Tracker.GrpcUrl, _fixture.Origin.BaseAddress, data.Path,
            _fixture.Output.WriteLine, PatientSources, $"--Agent:IngressBytesPerSecond={ingress}", "--Swarm:ResumeFlushInterval=00:00:00.5"))
        {
            using var http = new HttpClient { BaseAddress = first.BaseAddress, Timeout = TimeSpan.FromMinutes(3) };
            using var response = await http.GetAsync(BlobPath, HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await using var body = await response.Content.ReadAsStreamAsync();
            await body.ReadExactlyAsync(new byte[48 * 1024 * 1024]);

            // A crash, as far as the agent can tell: no shutdown code runs.
            first.Process.Kill();
            pieceLength = P2PRegistry.Core.MetaInfos.PieceLength.For(_fixture.Blob.Length);
            verifiedBytes = (long)CountVerifiedPieces(bitfield) * pieceLength;
        }

        Assert.True(verifiedBytes >= 32L * 1024 * 1024, $"only {verifiedBytes} bytes were verified before the kill");
        _fixture.Output.WriteLine($"[test] {verifiedBytes} bytes verified before SIGKILL");

        var secondLog = new System.Collections.Concurrent.ConcurrentQueue<string>();
        await using var second = await AgentProcess.StartAsync("restart-2", _fixture.Tracker.GrpcUrl, _fixture.Origin.BaseAddress, data.Path,
            line =>
            {
                secondLog.Enqueue(line);
                _fixture.Output.WriteLine(line);
            },
            PatientSources);
        using var secondHttp = new HttpClient { BaseAddress = second.BaseAddress, Timeout = TimeSpan.FromMinutes(3) };
        using (var response = await secondHttp.GetAsync(BlobPath, HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await using var body = await response.Content.ReadAsStreamAsync();
            Assert.Equal(_fixture.Blob.Digest.Hex, Convert.ToHexStringLower(await SHA256.HashDataAsync(body)));
        }

        // The agent counts a fetch's bytes when it admits the blob to its cache, just after the last byte went out.
        var fetched = 0L;
        for (var attempt = 0; attempt < 100 && fetched == 0; attempt++)
        {
            if (attempt > 0)
            {
                await Task.Delay(100);
            }

            fetched = await second.MetricAsync("p2pregistry_agent_bytes_from_peers_bytes_total")
                + await second.MetricAsync("p2pregistry_agent_bytes_from_origins_bytes_total");
        }

        _fixture.Output.WriteLine($"[test] the restarted agent fetched {fetched} bytes");

        // The resumed download wrote past the page cache (the temp folder is ext4 here), and said so.
        Assert.Contains(secondLog, line => line.Contains("already verified; disk: direct I/O", StringComparison.Ordinal));
        // Endgame may fetch a block or two twice; a whole piece of slack covers that, not the verified pieces.
        Assert.True(fetched > 0 && fetched <= _fixture.Blob.Length - verifiedBytes + pieceLength,
            $"the restarted agent fetched {fetched} bytes although {verifiedBytes} of {_fixture.Blob.Length} were verified before");
    }

    /// <summary>Set bits of the engine's bitfield file: "P2PB", version, 20-byte info hash, then the bitfield.</summary>
    internal static int CountVerifiedPieces(string path)
    {
        var bytes = File.ReadAllBytes(path);
        Assert.True(bytes.Length > 25 && bytes.AsSpan(0, 4).SequenceEqual("P2PB"u8), $"{path} is not a bitfield file");
        return bytes.AsSpan(25).ToArray().Sum(b => System.Numerics.BitOperations.PopCount(b));
    }
}
