using System.Text;
using System.Text.Json;
using P2PRegistry.Core.Content;
using P2PRegistry.Origin.Manifests;

namespace P2PRegistry.Origin.Tests.Manifests;

public sealed class ReferrersIndexTests
{
    private static readonly Digest Subject = Digest.Compute("subject"u8);

    private static Referrer Make(int i, string? artifactType = "application/vnd.example.sbom", string? annotations = null) =>
        new(Digest.Compute(Encoding.ASCII.GetBytes($"referrer-{i}")), ManifestReferences.OciManifest, 100 + i, artifactType, annotations);

    private static JsonElement[] Manifests(ReferrersPage page)
    {
        using var json = JsonDocument.Parse(page.Body);
        var root = json.RootElement;
        Assert.Equal(2, root.GetProperty("schemaVersion").GetInt32());
        Assert.Equal(ManifestReferences.OciIndex, root.GetProperty("mediaType").GetString());
        return [.. root.GetProperty("manifests").EnumerateArray().Select(e => e.Clone())];
    }

    [Fact]
    public void Build_None_IsAnEmptyIndex()
    {
        var page = ReferrersIndex.Build([], null, 10, 1 << 20);
        Assert.Empty(Manifests(page));
        Assert.Null(page.Next);
        Assert.Equal("""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}""", Encoding.UTF8.GetString(page.Body.Span));
    }

    [Fact]
    public void Build_Descriptors_CarryTypeDigestSizeArtifactTypeAndAnnotations()
    {
        var referrer = Make(1, annotations: """{"org.opencontainers.image.created":"2026-12-07T00:00:00Z"}""");
        var entry = Assert.Single(Manifests(ReferrersIndex.Build([referrer], null, 10, 1 << 20)));
        Assert.Equal(ManifestReferences.OciManifest, entry.GetProperty("mediaType").GetString());
        Assert.Equal(referrer.Digest.Value, entry.GetProperty("digest").GetString());
        Assert.Equal(101, entry.GetProperty("size").GetInt64());
        Assert.Equal("application/vnd.example.sbom", entry.GetProperty("artifactType").GetString());
        Assert.Equal("2026-12-07T00:00:00Z", entry.GetProperty("annotations").GetProperty("org.opencontainers.image.created").GetString());
    }

    [Fact]
    public void Build_ArtifactTypeFilter_KeepsOnlyThatType()
    {
        Referrer[] all = [Make(1, "a/x"), Make(2, "b/y"), Make(3, "a/x"), Make(4, null)];
        var page = ReferrersIndex.Build(all, "a/x", 10, 1 << 20);
        Assert.Equal([all[0].Digest.Value, all[2].Digest.Value], Manifests(page).Select(m => m.GetProperty("digest").GetString()));
        Assert.Null(page.Next);
    }

    [Fact]
    public void Build_MoreThanCount_PagesAndNamesTheLastListed()
    {
        var all = Enumerable.Range(0, 5).Select(i => Make(i)).ToArray();
        var page = ReferrersIndex.Build(all, null, 2, 1 << 20);
        Assert.Equal(2, page.Count);
        Assert.Equal(all[1].Digest, page.Next);

        var exact = ReferrersIndex.Build(all, null, 5, 1 << 20);
        Assert.Equal(5, exact.Count);
        Assert.Null(exact.Next);
    }

    [Fact]
    public void Build_ByteBudget_StopsBeforeTheBudgetButAlwaysListsOne()
    {
        var big = new string('x', 1000);
        var all = Enumerable.Range(0, 4).Select(i => Make(i, annotations: $$$"""{"k":"{{{big}}}"}""")).ToArray();
        var one = all[0].ToJson().Length;

        var tiny = ReferrersIndex.Build(all, null, 100, 10);
        Assert.Equal(1, tiny.Count);
        Assert.Equal(all[0].Digest, tiny.Next);

        var two = ReferrersIndex.Build(all, null, 100, (2 * one) + 1);
        Assert.Equal(2, two.Count);
        Assert.Equal(all[1].Digest, two.Next);
    }

    [Fact]
    public void Build_FilterThatMatchesNothingAfterAFullPage_HasNoNext()
    {
        Referrer[] all = [Make(1, "a/x"), Make(2, "b/y"), Make(3, "b/y")];
        var page = ReferrersIndex.Build(all, "a/x", 1, 1 << 20);
        Assert.Equal(1, page.Count);
        Assert.Null(page.Next);
    }

    [Fact]
    public void Referrer_ToJsonThenParse_RoundTrips()
    {
        var referrer = Make(7, annotations: """{"a":"b"}""");
        var parsed = Referrer.Parse(referrer.ToJson());
        Assert.Equal(referrer, parsed);
        Assert.Null(Referrer.Parse("{\"mediaType\":"u8));
        Assert.Null(Referrer.Parse("""{"mediaType":"a/b","digest":"sha256:zz","size":1}"""u8));
        Assert.Null(Referrer.Parse("""{"mediaType":"a/b","digest":"sha256:0000000000000000000000000000000000000000000000000000000000000000","size":-1}"""u8));
    }

    [Fact]
    public void Referrer_From_ArtifactTypeFromManifestElseConfigMediaType_IndexWithoutOneOmitsIt()
    {
        var config = Digest.Compute("config"u8);
        var withOwn = Read($$$"""{"schemaVersion":2,"mediaType":"{{{ManifestReferences.OciManifest}}}","artifactType":"application/vnd.example.sig","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"{{{config.Value}}}","size":2},"layers":[],"subject":{"mediaType":"{{{ManifestReferences.OciManifest}}}","digest":"{{{Subject.Value}}}","size":10}}""");
        Assert.Equal(Subject, withOwn.Subject);
        Assert.Equal("application/vnd.example.sig", Referrer.From(withOwn, config, 1, ManifestReferences.OciManifest)!.ArtifactType);

        var configOnly = Read($$$"""{"schemaVersion":2,"config":{"mediaType":"application/vnd.example.config","digest":"{{{config.Value}}}","size":2},"layers":[],"subject":{"digest":"{{{Subject.Value}}}"},"annotations":{"k":"v"}}""");
        var referrer = Referrer.From(configOnly, config, 1, ManifestReferences.OciManifest)!;
        Assert.Equal("application/vnd.example.config", referrer.ArtifactType);
        Assert.Equal("""{"k":"v"}""", referrer.AnnotationsJson);

        var index = Read($$$"""{"schemaVersion":2,"mediaType":"{{{ManifestReferences.OciIndex}}}","manifests":[{"digest":"{{{config.Value}}}"}],"subject":{"digest":"{{{Subject.Value}}}"}}""");
        Assert.Null(Referrer.From(index, config, 1, ManifestReferences.OciIndex)!.ArtifactType);

        var noSubject = Read($$$"""{"schemaVersion":2,"config":{"mediaType":"a/b","digest":"{{{config.Value}}}","size":2},"layers":[]}""");
        Assert.Null(Referrer.From(noSubject, config, 1, ManifestReferences.OciManifest));
    }

    [Theory]
    [InlineData("""{"subject":"sha256:abc"}""")]
    [InlineData("""{"subject":{"digest":"sha256:zz"}}""")]
    [InlineData("""{"artifactType":5}""")]
    [InlineData("""{"annotations":[]}""")]
    public void ManifestReferences_BadSubjectArtifactTypeOrAnnotations_IsFormatException(string json)
    {
        Assert.Throws<FormatException>(() => ManifestReferences.Read(Encoding.UTF8.GetBytes(json)));
    }

    private static ManifestReferences Read(string json) => ManifestReferences.Read(Encoding.UTF8.GetBytes(json));
}
