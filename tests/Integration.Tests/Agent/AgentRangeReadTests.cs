using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using P2PRegistry.Core.MetaInfos;

namespace P2PRegistry.Integration.Tests.Agent;

/// <summary>
/// Lazy reads through real agent processes: the last MiB of a cold 256 MiB blob (origin at 32 MiB/s, so the whole blob
/// would take seconds) comes back right while the agent fetched only the pieces covering it; with
/// <c>Agent:RangeContinuesDownload</c> off the download stops there, with it on the blob completes and is cached.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class AgentRangeReadTests : IClassFixture<ColdBlobFixture>, IDisposable
{
    private const long Tail = 1024 * 1024;
    private readonly ColdBlobFixture _fixture;

    public AgentRangeReadTests(ColdBlobFixture fixture, ITestOutputHelper output)
    {
        _fixture = fixture;
        fixture.Output.Attach(output);
    }

    public void Dispose() => _fixture.Output.Attach(null);

    private string BlobPath => $"/v2/agent/cold/blobs/{_fixture.Blob.Digest}";

    private long Length => _fixture.Blob.Length;

    // The pieces covering the last MiB; no read-ahead past the blob's end.
    private int TailPieces
    {
        get
        {
            var pieceLength = PieceLength.For(Length);
            return (int)(((Length - 1) / pieceLength) - ((Length - Tail) / pieceLength) + 1);
        }
    }

    private async Task<byte[]> GetTailAsync(AgentProcess agent)
    {
        using var http = new HttpClient { BaseAddress = agent.BaseAddress, Timeout = TimeSpan.FromMinutes(3) };
        using var request = new HttpRequestMessage(HttpMethod.Get, BlobPath);
        request.Headers.TryAddWithoutValidation("Range", $"bytes=-{Tail}");
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal($"bytes {Length - Tail}-{Length - 1}/{Length}", response.Content.Headers.ContentRange!.ToString());
        return await response.Content.ReadAsByteArrayAsync();
    }

    private async Task<byte[]> ExpectedTailAsync()
    {
        var expected = new byte[Tail];
        await using var file = File.OpenRead(_fixture.Blob.Path);
        file.Seek(Length - Tail, SeekOrigin.Begin);
        await file.ReadExactlyAsync(expected);
        return expected;
    }

    [Fact]
    public async Task ColdTail_FetchesOnlyItsPieces_AndWithoutRangeContinuesDownloadTheDownloadStopsThere()
    {
        var log = new ConcurrentQueue<string>();
        // 8 MiB/s into the agent: the whole blob would take half a minute.
        await using var agent = await AgentProcess.StartAsync("tail-only", _fixture.Tracker.GrpcUrl, _fixture.Origin.BaseAddress,
            line =>
            {
                log.Enqueue(line);
                _fixture.Output.WriteLine(line);
            },
            "--Agent:MissTimeout=00:00:10", "--Agent:IngressBytesPerSecond=8388608", "--Agent:RangeIdleTimeout=00:00:01");

        Assert.Equal(await ExpectedTailAsync(), await GetTailAsync(agent));

        // (The counter moves just after the piece is released to readers.)
        await WaitForAsync(async () => await agent.MetricAsync("p2pregistry_swarm_pieces_verified_total") >= TailPieces);

        // Nobody reads it any more: the download closes, keeping exactly those pieces, and the blob is not cached.
        await WaitForAsync(() => Task.FromResult(log.Any(l => l.Contains("Closed the idle download of byte ranges", StringComparison.Ordinal))));
        // (Logged as it closes; the resume file is written as the download's file closes, a moment later.)
        var resume = Path.Combine(agent.DataPath, "download", _fixture.Blob.Digest.Hex + ".pieces");
        await WaitForAsync(() => Task.FromResult(File.Exists(resume) && AgentColdBlobTests.CountVerifiedPieces(resume) >= TailPieces));
        Assert.Equal(TailPieces, AgentColdBlobTests.CountVerifiedPieces(resume));
        Assert.Equal(TailPieces, await agent.MetricAsync("p2pregistry_swarm_pieces_verified_total"));
        Assert.False(File.Exists(Path.Combine(agent.DataPath, "cache", "sha256", _fixture.Blob.Digest.Hex)));

        // What came from the swarm (the origin is its only source here) is the covering pieces, not the blob.
        var pieceLength = PieceLength.For(Length);
        var covering = Length - ((Length - Tail) / pieceLength * pieceLength);
        Assert.Equal(covering, await agent.MetricAsync("p2pregistry_swarm_bytes_downloaded_bytes_total"));
    }

    [Fact]
    public async Task ColdTail_WithRangeContinuesDownload_IsServedAndTheBlobCompletesIntoTheCache()
    {
        await using var agent = await AgentProcess.StartAsync("tail-continues", _fixture.Tracker.GrpcUrl, _fixture.Origin.BaseAddress,
            _fixture.Output.WriteLine, "--Agent:MissTimeout=00:00:10", "--Agent:RangeContinuesDownload=true");

        Assert.Equal(await ExpectedTailAsync(), await GetTailAsync(agent));

        var cached = Path.Combine(agent.DataPath, "cache", "sha256", _fixture.Blob.Digest.Hex);
        await WaitForAsync(() => Task.FromResult(File.Exists(cached)));
        await using var file = File.OpenRead(cached);
        Assert.Equal(_fixture.Blob.Digest.Hex, Convert.ToHexStringLower(await SHA256.HashDataAsync(file)));
        Assert.Equal(Length, await agent.MetricAsync("p2pregistry_agent_bytes_from_origins_bytes_total"));
    }

    // Bounded by a deadline, generous for a loaded machine: the events come in seconds.
    private static async Task WaitForAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        while (!await condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        Assert.True(await condition());
    }
}
