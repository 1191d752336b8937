using Grpc.Core;
using P2PRegistry.Contracts.Tracker;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Testing.Fakes;

namespace P2PRegistry.Tracker.Tests.InProcess;

public sealed class GrpcMetaInfoTests : IAsyncLifetime
{
    private FakeOrigin _origin = null!;
    private TrackerHost _tracker = null!;

    public async Task InitializeAsync()
    {
        _origin = await FakeOrigin.StartAsync();
        _tracker = await TrackerHost.StartAsync(_origin.Url);
    }

    public async Task DisposeAsync()
    {
        await _tracker.DisposeAsync();
        await _origin.DisposeAsync();
    }

    private static CallOptions Deadline => new(deadline: DateTime.UtcNow.AddSeconds(30));

    [Fact]
    public async Task GetMetaInfo_KnownBlob_ReturnsInfoDictAndInfoHash()
    {
        var metaInfo = TestMetaInfos.Create();
        _origin.Serve(metaInfo);

        var response = await _tracker.Client.GetMetaInfoAsync(new GetMetaInfoRequest { Digest = metaInfo.Digest.Value, Ns = "docker.io" }, Deadline);

        Assert.Equal(metaInfo.Encoded.ToArray(), response.Info.ToByteArray());
        Assert.Equal(metaInfo.InfoHash.ToArray(), response.InfoHash.ToByteArray());
        Assert.Equal(metaInfo.InfoHash, MetaInfo.Decode(response.Info.Memory).InfoHash);
    }

    [Fact]
    public async Task GetMetaInfo_FiftyConcurrentCalls_OneOriginRequest()
    {
        var metaInfo = TestMetaInfos.Create();
        _origin.Serve(metaInfo);
        _origin.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var calls = Enumerable.Range(0, 50)
            .Select(_ => _tracker.Client.GetMetaInfoAsync(new GetMetaInfoRequest { Digest = metaInfo.Digest.Value }, Deadline).ResponseAsync)
            .ToArray();
        for (var i = 0; i < 200 && _origin.Hits == 0; i++)
        {
            await Task.Delay(25);
        }

        // Give the other 49 calls time to reach the tracker while the first fetch is held at the origin.
        await Task.Delay(300);
        Assert.DoesNotContain(calls, c => c.IsCompleted);
        _origin.Gate.SetResult();
        var responses = await Task.WhenAll(calls);

        Assert.Equal(1, _origin.Hits);
        Assert.All(responses, r => Assert.Equal(metaInfo.InfoHash.ToArray(), r.InfoHash.ToByteArray()));
    }

    [Fact]
    public async Task Announce_DigestOfAnotherInfoHash_IsInvalidArgument()
    {
        var metaInfo = TestMetaInfos.Create();
        var other = TestMetaInfos.Create();
        _origin.Serve(metaInfo);
        await _tracker.Client.GetMetaInfoAsync(new GetMetaInfoRequest { Digest = metaInfo.Digest.Value }, Deadline);
        var matching = Announces.Request(metaInfo.InfoHash, 1, ip: "");
        matching.Digest = metaInfo.Digest.Value;
        var mismatched = Announces.Request(other.InfoHash, 2, ip: "");
        mismatched.Digest = metaInfo.Digest.Value;

        await _tracker.Client.AnnounceAsync(matching, Deadline);
        var ex = await Assert.ThrowsAsync<RpcException>(async () => await _tracker.Client.AnnounceAsync(mismatched, Deadline));

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
    }

    [Fact]
    public async Task GetMetaInfo_UnknownBlob_IsNotFound()
    {
        var metaInfo = TestMetaInfos.Create();

        var ex = await Assert.ThrowsAsync<RpcException>(async () =>
            await _tracker.Client.GetMetaInfoAsync(new GetMetaInfoRequest { Digest = metaInfo.Digest.Value }, Deadline));

        Assert.Equal(StatusCode.NotFound, ex.StatusCode);
        Assert.Equal(1, _origin.Hits);
    }

    [Theory]
    [InlineData("")]
    [InlineData("sha256:abc")]
    [InlineData("md5:d41d8cd98f00b204e9800998ecf8427e")]
    [InlineData("sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855")]
    public async Task GetMetaInfo_MalformedDigest_IsInvalidArgumentWithoutAskingOrigin(string digest)
    {
        var ex = await Assert.ThrowsAsync<RpcException>(async () =>
            await _tracker.Client.GetMetaInfoAsync(new GetMetaInfoRequest { Digest = digest }, Deadline));

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Equal(0, _origin.Hits);
    }

    [Fact]
    public async Task GetMetaInfo_OriginAnswersAnotherDigest_IsRejected()
    {
        var asked = TestMetaInfos.Create();
        var other = TestMetaInfos.Create();
        _origin.Served[asked.Digest.Value] = other;

        var ex = await Assert.ThrowsAsync<RpcException>(async () =>
            await _tracker.Client.GetMetaInfoAsync(new GetMetaInfoRequest { Digest = asked.Digest.Value }, Deadline));

        Assert.Equal(StatusCode.Internal, ex.StatusCode);
        Assert.Contains(other.Digest.Value, ex.Status.Detail);
    }
}

public sealed class GrpcMetaInfoOriginDownTests
{
    [Fact]
    public async Task GetMetaInfo_OriginDown_IsUnavailableWithoutHanging()
    {
        await using var tracker = await TrackerHost.StartAsync($"http://127.0.0.1:{TrackerHost.UnusedPort()}");
        var metaInfo = TestMetaInfos.Create();

        // The deadline only guards against a hang; the tracker must answer on its own, well before it.
        var ex = await Assert.ThrowsAsync<RpcException>(async () =>
            await tracker.Client.GetMetaInfoAsync(new GetMetaInfoRequest { Digest = metaInfo.Digest.Value }, deadline: DateTime.UtcNow.AddSeconds(30)));

        Assert.Equal(StatusCode.Unavailable, ex.StatusCode);
        Assert.Contains("origin", ex.Status.Detail);
    }
}
