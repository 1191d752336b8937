using System.Net;
using System.Text;
using P2PRegistry.Core.Content;

namespace P2PRegistry.Origin.Tests.Upstream;

/// <summary>Referrers of a name that is not local, with <c>ns</c> naming an upstream: the upstream's answer, bounded.</summary>
public sealed class UpstreamReferrersTests : IAsyncLifetime
{
    private const string Ns = "ns=fake.registry%3A5000";
    private static readonly Digest Subject = Digest.Compute("upstream subject"u8);
    private FakeUpstream _upstream = null!;
    private OriginServer _origin = null!;

    public async Task InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        _origin = await OriginServer.StartAsync(_upstream.OriginArguments("--Origin:MaxManifestBytes=4096"));
    }

    public async Task DisposeAsync()
    {
        await _origin.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task UpstreamWithReferrers_PassedThroughByteForByte_FilterForwardedAndReported()
    {
        var index = Encoding.UTF8.GetBytes($$$"""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{{{Digest.Compute("sig"u8).Value}}}","size":5,"artifactType":"application/vnd.example.sig"}]}""");
        _upstream.Referrers[$"team/app@{Subject.Value}"] = (index, "artifactType");

        using var response = await _origin.Client.GetAsync($"/v2/team/app/referrers/{Subject.Value}?{Ns}&artifactType=application%2Fvnd.example.sig");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/vnd.oci.image.index.v1+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(index, await response.Content.ReadAsByteArrayAsync());
        Assert.Equal("artifactType", response.Headers.GetValues("OCI-Filters-Applied").Single());
        Assert.Equal("?artifactType=application%2Fvnd.example.sig", Assert.Single(_upstream.ReferrersQueries));
    }

    [Fact]
    public async Task UpstreamWithoutReferrersApi_404_SoTheClientFallsBackToTheTagSchema()
    {
        using var response = await _origin.Client.GetAsync($"/v2/team/app/referrers/{Subject.Value}?{Ns}");
        await OriginServer.AssertErrorAsync(response, HttpStatusCode.NotFound, "NAME_UNKNOWN");
    }

    [Fact]
    public async Task ReferrersOfAMissingSubject_AskedManyTimes_ReachTheUpstreamOnce()
    {
        for (var i = 0; i < 5; i++)
        {
            using var response = await _origin.Client.GetAsync($"/v2/team/app/referrers/{Subject.Value}?{Ns}");
            await OriginServer.AssertErrorAsync(response, HttpStatusCode.NotFound, "NAME_UNKNOWN");
        }

        Assert.Single(_upstream.ReferrersQueries);

        // Another filter is another question: it is asked (once) too.
        using var filtered = await _origin.Client.GetAsync($"/v2/team/app/referrers/{Subject.Value}?{Ns}&artifactType=application%2Fvnd.example.sig");
        await OriginServer.AssertErrorAsync(filtered, HttpStatusCode.NotFound, "NAME_UNKNOWN");
        Assert.Equal(2, _upstream.ReferrersQueries.Count);
    }

    [Fact]
    public async Task UpstreamAnswerOverTheManifestLimitOrNotJson_Is503()
    {
        var big = Encoding.UTF8.GetBytes($$$"""{"manifests":[],"pad":"{{{new string('x', 5000)}}}"}""");
        _upstream.Referrers[$"team/app@{Subject.Value}"] = (big, null);
        using (var response = await _origin.Client.GetAsync($"/v2/team/app/referrers/{Subject.Value}?{Ns}"))
        {
            await OriginServer.AssertErrorAsync(response, HttpStatusCode.ServiceUnavailable, "UNAVAILABLE");
        }

        _upstream.Referrers[$"team/app@{Subject.Value}"] = ("<html>"u8.ToArray(), null);
        using (var response = await _origin.Client.GetAsync($"/v2/team/app/referrers/{Subject.Value}?{Ns}"))
        {
            await OriginServer.AssertErrorAsync(response, HttpStatusCode.ServiceUnavailable, "UNAVAILABLE");
        }
    }

    [Fact]
    public async Task UpstreamBroken_Is503()
    {
        _upstream.Broken = true;
        using var response = await _origin.Client.GetAsync($"/v2/team/app/referrers/{Subject.Value}?{Ns}");
        await OriginServer.AssertErrorAsync(response, HttpStatusCode.ServiceUnavailable, "UNAVAILABLE");
    }
}
