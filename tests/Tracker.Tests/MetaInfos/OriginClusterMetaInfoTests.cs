using System.Net;
using P2PRegistry.Core.Placement;
using P2PRegistry.Tracker.MetaInfos;

namespace P2PRegistry.Tracker.Tests.MetaInfos;

/// <summary><c>Tracker:OriginUrls</c>: metainfo from the blob's owners in rendezvous order, every answering owner's peer a seed.</summary>
public sealed class OriginClusterMetaInfoTests
{
    private static readonly string[] Origins = ["http://127.0.0.1:5001", "http://127.0.0.1:5002", "http://127.0.0.1:5003"];

    /// <summary>Each origin answers with the metainfo and its peer 127.0.0.1:600N, unless it is down.</summary>
    private sealed class ClusterHandler(P2PRegistry.Core.MetaInfos.MetaInfo metaInfo, HashSet<int> down) : HttpMessageHandler
    {
        public List<int> Asked { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var origin = request.RequestUri!.Port - 5001;
            Asked.Add(origin);
            if (down.Contains(origin))
            {
                throw new HttpRequestException("connection refused");
            }

            var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(metaInfo.Encoded.ToArray()) };
            response.Headers.Add(OriginMetaInfoClient.InfoHashHeader, metaInfo.InfoHash.ToHex());
            response.Headers.Add(OriginMetaInfoClient.OriginPeerHeader, $"127.0.0.1:{6001 + origin}");
            return Task.FromResult(response);
        }
    }

    private static int[] Ranking(P2PRegistry.Core.MetaInfos.MetaInfo metaInfo) => new RendezvousRing(Origins).Rank(metaInfo.Digest.Value);

    [Fact]
    public async Task Fetch_AllUp_SeedsAreTheTwoOwnersInRankOrder()
    {
        var metaInfo = TestMetaInfos.Create();
        var handler = new ClusterHandler(metaInfo, []);
        var client = new OriginMetaInfoClient(new HttpClient(handler), [.. Origins.Select(o => o + "/")], 2);

        var fetched = await client.FetchAsync(metaInfo.Digest, null, CancellationToken.None);

        var ranking = Ranking(metaInfo);
        Assert.Equal(metaInfo.InfoHash, fetched.MetaInfo.InfoHash);
        Assert.Equal(ranking[..2].Select(o => new IPEndPoint(IPAddress.Loopback, 6001 + o)), fetched.AllOriginPeers);
        Assert.Equal(ranking[..2], handler.Asked);
    }

    [Fact]
    public async Task Fetch_FirstOwnerDown_NextMemberStandsIn()
    {
        var metaInfo = TestMetaInfos.Create();
        var ranking = Ranking(metaInfo);
        var handler = new ClusterHandler(metaInfo, [ranking[0]]);
        var client = new OriginMetaInfoClient(new HttpClient(handler), Origins, 2);

        var fetched = await client.FetchAsync(metaInfo.Digest, null, CancellationToken.None);

        Assert.Equal(ranking[1..].Select(o => new IPEndPoint(IPAddress.Loopback, 6001 + o)), fetched.AllOriginPeers);
    }

    [Fact]
    public async Task Fetch_AllDown_Unavailable()
    {
        var metaInfo = TestMetaInfos.Create();
        var client = new OriginMetaInfoClient(new HttpClient(new ClusterHandler(metaInfo, [0, 1, 2])), Origins, 2);

        var ex = await Assert.ThrowsAsync<MetaInfoException>(() => client.FetchAsync(metaInfo.Digest, null, CancellationToken.None));

        Assert.Equal(MetaInfoFailure.Unavailable, ex.Failure);
    }

    [Fact]
    public void Cache_KeepsEveryOriginPeer_FirstIsTheOriginPeer()
    {
        var metaInfo = TestMetaInfos.Create();
        var cache = new MetaInfoCache(1 << 20);
        IPEndPoint[] peers = [new(IPAddress.Loopback, 6002), new(IPAddress.Loopback, 6003)];
        cache.Add(metaInfo, peers);

        Assert.Equal(peers, cache.OriginPeers(metaInfo.InfoHash));
        Assert.True(cache.TryGetOriginPeer(metaInfo.InfoHash, out var first));
        Assert.Equal(peers[0], first);
    }

    /// <summary>Records which origin (by port) each request went to, answering 404 so the client asks every origin.</summary>
    private sealed class RecordingHandler : HttpMessageHandler
    {
        public List<int> Asked { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Asked.Add(request.RequestUri!.Port - 5001);
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.NotFound));
        }
    }

    [Fact]
    public async Task Fetch_OriginsSpelledOtherwiseThanTheOriginsSpellTheirMembers_StillRankedAsTheOriginsRankOwners()
    {
        // The origins list their members as "http://127.0.0.1:5001" …; this tracker's operator wrote them differently.
        string[] spelledOtherwise = ["HTTP://127.0.0.1:5001/", "http://127.0.0.1:5002//", " http://127.0.0.1:5003 "];
        var originsOwnRing = new RendezvousRing([.. Origins.Select(RendezvousRing.NodeId)]);

        for (var i = 0; i < 20; i++)
        {
            var digest = P2PRegistry.Core.Content.Digest.Compute(System.Text.Encoding.UTF8.GetBytes($"blob {i}"));
            var handler = new RecordingHandler();
            var client = new OriginMetaInfoClient(new HttpClient(handler), spelledOtherwise, 3);

            await Assert.ThrowsAsync<MetaInfoException>(() => client.FetchAsync(digest, null, default));

            Assert.Equal(originsOwnRing.Rank(digest.Value), handler.Asked);
        }
    }
}
