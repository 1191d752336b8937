using System.Text;
using P2PRegistry.Core.Content;
using P2PRegistry.Origin.Collection;

namespace P2PRegistry.Origin.Tests.Collection;

public sealed class ReachabilityMarkerTests
{
    private readonly Dictionary<Digest, byte[]> _store = [];
    private readonly Dictionary<Digest, List<Digest>> _referrers = [];

    private static Digest D(string seed) => Digest.Compute(Encoding.UTF8.GetBytes(seed));

    private Digest Put(string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        var digest = Digest.Compute(bytes);
        _store[digest] = bytes;
        return digest;
    }

    private static string Descriptor(Digest digest, string mediaType = "application/octet-stream", string extra = "") =>
        $$"""{"mediaType":"{{mediaType}}","digest":"{{digest.Value}}","size":1{{extra}}}""";

    private string Image(Digest config, params Digest[] layers) =>
        $$"""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{Descriptor(config)}},"layers":[{{string.Join(",", layers.Select(l => Descriptor(l)))}}]}""";

    private MarkResult Mark(params Digest[] roots) =>
        ReachabilityMarker.Mark(roots, d => _store.TryGetValue(d, out var b) ? (ReadOnlyMemory<byte>?)b : null, s => _referrers.TryGetValue(s, out var r) ? r : []);

    [Fact]
    public void Mark_ImageManifest_KeepsItselfConfigAndLayersOnly()
    {
        var (config, layer1, layer2, other) = (D("config"), D("l1"), D("l2"), D("other"));
        var manifest = Put(Image(config, layer1, layer2));

        var result = Mark(manifest);

        Assert.Equal(new HashSet<Digest> { manifest, config, layer1, layer2 }, result.Reachable);
        Assert.DoesNotContain(other, result.Reachable);
        Assert.Empty(result.Doubtful);
    }

    [Fact]
    public void Mark_Index_FollowsChildManifestsToTheirConfigAndLayers()
    {
        var amd = Put(Image(D("c-amd"), D("l-amd")));
        var arm = Put(Image(D("c-arm"), D("l-arm")));
        var index = Put($$"""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{{Descriptor(amd, "application/vnd.oci.image.manifest.v1+json")}},{{Descriptor(arm, "application/vnd.oci.image.manifest.v1+json")}}]}""");

        var result = Mark(index);

        Assert.Equal(new HashSet<Digest> { index, amd, arm, D("c-amd"), D("l-amd"), D("c-arm"), D("l-arm") }, result.Reachable);
    }

    [Fact]
    public void Mark_DockerManifestList_FollowsChildren()
    {
        var child = Put(Image(D("c"), D("l")).Replace("application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json", StringComparison.Ordinal));
        var list = Put($$"""{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[{{Descriptor(child)}}]}""");

        var result = Mark(list);

        Assert.Contains(D("l"), result.Reachable);
        Assert.Empty(result.Doubtful);
    }

    [Fact]
    public void Mark_ReferrerOfKeptManifest_IsKept_ButAReferrerDoesNotKeepItsSubject()
    {
        var subject = Put(Image(D("c"), D("l")));
        var signature = Put($$"""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/example.sig","config":{{Descriptor(D("sig-config"))}},"layers":[{{Descriptor(D("sig-layer"))}}],"subject":{{Descriptor(subject, "application/vnd.oci.image.manifest.v1+json")}}}""");
        _referrers[subject] = [signature];

        var fromSubject = Mark(subject);
        Assert.Contains(signature, fromSubject.Reachable);
        Assert.Contains(D("sig-layer"), fromSubject.Reachable);

        var fromSignature = Mark(signature);
        Assert.Contains(D("sig-layer"), fromSignature.Reachable);
        Assert.DoesNotContain(subject, fromSignature.Reachable);
        Assert.DoesNotContain(D("l"), fromSignature.Reachable);
    }

    [Fact]
    public void Mark_ForeignLayerWithUrls_IsKeptToo()
    {
        var foreign = D("foreign");
        var manifest = Put(Image(D("c"), D("l")).Replace("\"layers\":[", $"\"layers\":[{Descriptor(foreign, "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", ",\"urls\":[\"https://example.com/x\"]")},", StringComparison.Ordinal));

        Assert.Contains(foreign, Mark(manifest).Reachable);
    }

    [Fact]
    public void Mark_UnknownMediaType_KeepsEveryDigestInItsBytesAndReadsThemAsManifests()
    {
        var nested = Put(Image(D("nested-config"), D("nested-layer")));
        var odd = Put("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.example.bundle.v1+json\",\"parts\":{\"a\":\"" + D("part").Value + "\",\"next\":\"" + nested.Value + "\"}}");

        var result = Mark(odd);

        Assert.Contains(D("part"), result.Reachable);
        Assert.Contains(nested, result.Reachable);
        Assert.Contains(D("nested-layer"), result.Reachable);
        var doubt = Assert.Single(result.Doubtful);
        Assert.Equal(odd, doubt.Digest);
        Assert.Contains("unknown media type", doubt.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Mark_CorruptManifest_KeepsEverythingItMightReference_AndSaysSo()
    {
        var layer = D("layer");
        var config = D("config");
        // A torn write: valid up to the middle of the layers array.
        var full = Image(config, layer, D("second"));
        var torn = Encoding.UTF8.GetBytes(full[..(full.IndexOf(D("second").Value, StringComparison.Ordinal) + 20)]);
        var digest = Digest.Compute(torn);
        _store[digest] = torn;

        var result = Mark(digest);

        Assert.Contains(config, result.Reachable);
        Assert.Contains(layer, result.Reachable);
        Assert.Contains("not a readable manifest", Assert.Single(result.Doubtful).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Mark_ManifestWithWrongShape_IsReadConservatively()
    {
        var layer = D("layer");
        var manifest = Put("{\"schemaVersion\":2,\"layers\":{\"not\":\"an array\",\"digest\":\"" + layer.Value + "\"}}");

        var result = Mark(manifest);

        Assert.Contains(layer, result.Reachable);
        Assert.Single(result.Doubtful);
    }

    [Fact]
    public void Mark_MissingChildManifest_IsKeptAsADigest_AndIsNoError()
    {
        var missing = D("missing child");
        var index = Put($$"""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{{Descriptor(missing)}}]}""");

        Assert.Equal(new HashSet<Digest> { index, missing }, Mark(index).Reachable);
    }

    [Fact]
    public void Mark_IndexThatContainsItself_Terminates()
    {
        // An index cannot name its own digest, but two stored documents can name each other through the digest scan.
        var a = D("a");
        var b = Put($$"""{"mediaType":"application/x-unknown","next":"{{a.Value}}"}""");
        _store[a] = Encoding.UTF8.GetBytes($$"""{"mediaType":"application/x-unknown","next":"{{b.Value}}"}""");

        var result = Mark(b);

        Assert.Contains(a, result.Reachable);
        Assert.Contains(b, result.Reachable);
    }

    [Fact]
    public void Mark_ReadFails_Throws_SoThePassRemovesNothing()
    {
        var manifest = Put(Image(D("c"), D("l")));

        Assert.Throws<IOException>(() => ReachabilityMarker.Mark([manifest], _ => throw new IOException("disk error"), _ => []));
    }

    [Fact]
    public void Mark_MoreManifestsThanTheBound_Throws()
    {
        var roots = Enumerable.Range(0, 5).Select(i => Put(Image(D($"c{i}"), D($"l{i}")))).ToArray();

        Assert.Throws<InvalidOperationException>(() => ReachabilityMarker.Mark(roots, d => _store[d], _ => [], maxManifests: 3));
    }

    [Theory]
    [InlineData("sha256:{0}", true)]
    [InlineData("\"sha256:{0}\"", true)]
    [InlineData("sha256:{0}0", false)]
    [InlineData("sha256:{1}", false)]
    [InlineData("sha512:{0}", false)]
    public void ScanDigests_FindsExactlyWellFormedSha256Digests(string template, bool found)
    {
        var hex = D("x").Hex;
        var text = string.Format(System.Globalization.CultureInfo.InvariantCulture, template, hex, hex.ToUpperInvariant());

        var digests = ReachabilityMarker.ScanDigests(Encoding.ASCII.GetBytes(text));

        Assert.Equal(found ? [D("x")] : [], digests);
    }
}
