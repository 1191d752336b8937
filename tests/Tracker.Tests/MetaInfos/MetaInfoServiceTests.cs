using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Tracker.Diagnostics;
using P2PRegistry.Tracker.MetaInfos;
using P2PRegistry.Tracker.Peers;

namespace P2PRegistry.Tracker.Tests.MetaInfos;

public sealed class MetaInfoServiceTests : IDisposable
{
    private readonly TestMeterFactory _meters = new();

    public void Dispose() => _meters.Dispose();

    private readonly FakeTimeProvider _time = new();

    private MetaInfoService CreateService(HttpMessageHandler handler, long cacheBytes = 1 << 20)
    {
        var store = new InMemoryPeerStore(new PeerStoreOptions(TimeSpan.FromMinutes(1), 10, 10), new FakeTimeProvider());
        var client = new OriginMetaInfoClient(new HttpClient(handler) { BaseAddress = new Uri("http://origin.test/") });
        return new MetaInfoService(client, new MetaInfoCache(cacheBytes), new KnownInfoHashes(1000), new TrackerMetrics(_meters, store), _time, NullLogger<MetaInfoService>.Instance);
    }

    [Fact]
    public async Task GetAsync_FiftyConcurrentCallers_OneOriginRequest()
    {
        var metaInfo = TestMetaInfos.Create();
        var origin = new GatedOrigin(metaInfo);
        var service = CreateService(origin);

        var calls = Enumerable.Range(0, 50).Select(_ => service.GetAsync(metaInfo.Digest, null, default).AsTask()).ToArray();
        await origin.FirstRequest.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.DoesNotContain(calls, c => c.IsCompleted);
        origin.Release();
        var results = await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(1, origin.Requests);
        Assert.All(results, r => Assert.Equal(metaInfo.InfoHash, r.InfoHash));
        Assert.True(service.TryGetByInfoHash(metaInfo.InfoHash, out _));
    }

    [Fact]
    public async Task GetAsync_AfterFetch_AnswersFromCache()
    {
        var metaInfo = TestMetaInfos.Create();
        var origin = new GatedOrigin(metaInfo);
        origin.Release();
        var service = CreateService(origin);

        await service.GetAsync(metaInfo.Digest, null, default);
        await service.GetAsync(metaInfo.Digest, "docker.io", default);

        Assert.Equal(1, origin.Requests);
    }

    [Fact]
    public async Task GetAsync_OneCallerCancels_OthersStillGetTheResult()
    {
        var metaInfo = TestMetaInfos.Create();
        var origin = new GatedOrigin(metaInfo);
        var service = CreateService(origin);
        using var cts = new CancellationTokenSource();

        var cancelled = service.GetAsync(metaInfo.Digest, null, cts.Token).AsTask();
        var patient = service.GetAsync(metaInfo.Digest, null, default).AsTask();
        await origin.FirstRequest.WaitAsync(TimeSpan.FromSeconds(10));
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        origin.Release();

        Assert.Equal(metaInfo.InfoHash, (await patient.WaitAsync(TimeSpan.FromSeconds(10))).InfoHash);
        Assert.Equal(1, origin.Requests);
    }

    [Fact]
    public async Task GetAsync_NotFound_IsRememberedForTheMissTime_ThenAskedAgain()
    {
        var metaInfo = TestMetaInfos.Create();
        var other = TestMetaInfos.Create(length: 300 * 1024);
        var origin = new GatedOrigin(null);
        origin.Release();
        var service = CreateService(origin);

        // A flood of announces for one unknown digest: one origin request.
        for (var i = 0; i < 20; i++)
        {
            var ex = await Assert.ThrowsAsync<MetaInfoException>(() => service.GetAsync(metaInfo.Digest, null, default, rememberMisses: true).AsTask());
            Assert.Equal(MetaInfoFailure.NotFound, ex.Failure);
        }

        Assert.Equal(1, origin.Requests);

        // Another digest (or another namespace) is its own question.
        await Assert.ThrowsAsync<MetaInfoException>(() => service.GetAsync(other.Digest, null, default, rememberMisses: true).AsTask());
        await Assert.ThrowsAsync<MetaInfoException>(() => service.GetAsync(metaInfo.Digest, "docker.io", default, rememberMisses: true).AsTask());
        Assert.Equal(3, origin.Requests);

        // A metainfo request (a blob being pulled through is 404 until its fill completes) always asks.
        await Assert.ThrowsAsync<MetaInfoException>(() => service.GetAsync(metaInfo.Digest, null, default).AsTask());
        Assert.Equal(4, origin.Requests);

        // After the period the origin is asked again (the blob may have been pushed since).
        _time.Advance(MetaInfoService.MissTime);
        await Assert.ThrowsAsync<MetaInfoException>(() => service.GetAsync(metaInfo.Digest, null, default, rememberMisses: true).AsTask());
        Assert.Equal(5, origin.Requests);
    }

    [Fact]
    public async Task GetAsync_NsGiven_PassesItToTheOrigin()
    {
        var metaInfo = TestMetaInfos.Create();
        var origin = new GatedOrigin(metaInfo);
        origin.Release();
        var service = CreateService(origin);

        await service.GetAsync(metaInfo.Digest, "ghcr.io", default);

        Assert.Equal($"/p2p/v1/metainfo/{metaInfo.Digest}?ns=ghcr.io", origin.LastPathAndQuery);
    }

    /// <summary>Answers every request with one metainfo (or 404), but only once released.</summary>
    private sealed class GatedOrigin(MetaInfo? metaInfo) : HttpMessageHandler
    {
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _first = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _requests;

        public int Requests => Volatile.Read(ref _requests);

        public Task FirstRequest => _first.Task;

        public string? LastPathAndQuery { get; private set; }

        public void Release() => _release.TrySetResult();

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _requests);
            LastPathAndQuery = request.RequestUri!.PathAndQuery;
            _first.TrySetResult();
            await _release.Task.WaitAsync(cancellationToken);
            if (metaInfo is null)
            {
                return new HttpResponseMessage(HttpStatusCode.NotFound);
            }

            var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(metaInfo.Encoded.ToArray()) };
            response.Headers.Add(OriginMetaInfoClient.InfoHashHeader, metaInfo.InfoHash.ToHex());
            return response;
        }
    }
}
