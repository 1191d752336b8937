using System.Net;
using Microsoft.Extensions.Time.Testing;
using P2PRegistry.Agent.Origins;
using P2PRegistry.Core.Content;
using P2PRegistry.Core.Placement;

namespace P2PRegistry.Agent.Tests.Origins;

public sealed class OriginFailoverHandlerTests
{
    private static readonly string[] Origins = ["http://127.0.0.1:5001", "http://127.0.0.1:5002", "http://127.0.0.1:5003"];

    /// <summary>Answers per origin port: 200, a status, or a connection failure; records the order asked.</summary>
    private sealed class Cluster(Dictionary<int, HttpStatusCode?> answers) : HttpMessageHandler
    {
        public List<int> Asked { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var origin = request.RequestUri!.Port - 5001;
            Asked.Add(origin);
            return answers.GetValueOrDefault(origin, HttpStatusCode.OK) is { } status
                ? Task.FromResult(new HttpResponseMessage(status) { Content = new StringContent(request.RequestUri.PathAndQuery) })
                : throw new HttpRequestException("connection refused");
        }
    }

    private static HttpClient Client(Cluster cluster, TimeProvider? time = null) =>
        new(new OriginFailoverHandler(Origins, cluster, time ?? new FakeTimeProvider())) { BaseAddress = new Uri(Origins[0] + "/") };

    [Fact]
    public async Task Manifest_FirstOriginUnreachable_NextAnswers_PathKept()
    {
        var cluster = new Cluster(new() { [0] = null });
        using var client = Client(cluster);

        using var response = await client.GetAsync("v2/team/app/manifests/v1?ns=registry.example");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("/v2/team/app/manifests/v1?ns=registry.example", await response.Content.ReadAsStringAsync());
        Assert.Equal([0, 1], cluster.Asked);
    }

    [Fact]
    public async Task Blob_AskedOfItsOwnersFirst_503MovesOn()
    {
        var digest = Digest.Compute("blob"u8);
        var ranking = new RendezvousRing(Origins).Rank(digest.Value);
        var cluster = new Cluster(new() { [ranking[0]] = HttpStatusCode.ServiceUnavailable });
        using var client = Client(cluster);

        using var response = await client.GetAsync($"v2/team/app/blobs/{digest.Value}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(ranking[..2], cluster.Asked);
    }

    [Fact]
    public async Task FailedOrigin_TriedLastForTheDownTime_ThenFirstAgain()
    {
        var time = new FakeTimeProvider();
        var answers = new Dictionary<int, HttpStatusCode?> { [0] = null };
        var cluster = new Cluster(answers);
        using var client = Client(cluster, time);
        (await client.GetAsync("v2/")).Dispose();
        cluster.Asked.Clear();

        (await client.GetAsync("v2/")).Dispose();
        Assert.Equal([1], cluster.Asked);

        answers.Remove(0);
        time.Advance(OriginFailoverHandler.DownTime + TimeSpan.FromSeconds(1));
        cluster.Asked.Clear();
        (await client.GetAsync("v2/")).Dispose();
        Assert.Equal([0], cluster.Asked);
    }

    [Fact]
    public async Task AllOriginsFail_LastAnswerReturned_OrItsError()
    {
        var cluster = new Cluster(new() { [0] = HttpStatusCode.ServiceUnavailable, [1] = HttpStatusCode.BadGateway, [2] = HttpStatusCode.ServiceUnavailable });
        using var client = Client(cluster);
        using var response = await client.GetAsync("v2/");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal([0, 1, 2], cluster.Asked);

        using var down = Client(new Cluster(new() { [0] = null, [1] = null, [2] = null }));
        await Assert.ThrowsAsync<HttpRequestException>(() => down.GetAsync("v2/"));
    }
}
