using System.Net;
using System.Security.Cryptography;
using System.Text;
using P2PRegistry.Testing.Waiting;

namespace P2PRegistry.Integration.Tests.Origin;

/// <summary>
/// The origin's garbage collection (Origin:Gc) as a real process, with skopeo pushing and pulling: passes every second
/// with a short grace period while pushes go on; the dry run against the real run; the pull-through quota with a real
/// docker-registry upstream.
/// </summary>
[Trait("Category", TestCategories.Integration)]
[Trait("Registry", "origin")]
public sealed class OriginGarbageCollectionTests(ITestOutputHelper output) : IDisposable
{
    private const string PassLine = "Garbage collection: ";
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(120);

    private readonly TempDirectory _temp = new("gc");
    private int _passes;

    public void Dispose() => _temp.Dispose();

    private void Log(string line)
    {
        output.WriteLine(line);
        if (line.Contains(PassLine, StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _passes);
        }
    }

    private Task<OriginProcess> StartOriginAsync(string storage, params string[] arguments) =>
        OriginProcess.StartAsync(new OriginOptions { StoragePath = storage, OnOutputLine = Log, ExtraArguments = [.. arguments] });

    /// <summary>Waits until <paramref name="count"/> more passes than now have completed.</summary>
    private async Task WaitForPassesAsync(int count)
    {
        var target = Volatile.Read(ref _passes) + count;
        await Eventually.AssertAsync(() => Volatile.Read(ref _passes) >= target, $"{count} garbage collection passes", timeout: Settle);
    }

    private static string BlobData(string storage, string digest)
    {
        var hex = digest.Split(':')[1];
        return Path.Combine(storage, "blobs", "sha256", hex[..2], hex, "data");
    }

    private async Task<List<OciImage>> BuildImagesAsync(string name, int count, int firstSeed, int randomMiB = 1)
    {
        var layout = _temp.Combine(name);
        var images = new List<OciImage>();
        for (var i = 0; i < count; i++)
        {
            images.Add(await OciImageBuilder.BuildAsync(layout, $"v{i}", randomMiB, seed: firstSeed + i));
        }

        return images;
    }

    /// <summary>Every blob of the image (manifest, config, layers) with its size.</summary>
    private static Dictionary<string, long> Blobs(OciImage image)
    {
        var blobs = new Dictionary<string, long>(StringComparer.Ordinal)
        {
            [image.ManifestDigest] = image.ManifestSize,
            [image.ConfigDigest] = new FileInfo(OciImageBuilder.BlobPath(image.LayoutPath, image.ConfigDigest)).Length,
        };
        foreach (var layer in image.Layers)
        {
            blobs[layer.Digest] = layer.Size;
        }

        return blobs;
    }

    /// <summary>Pulls with skopeo (dir:) and checks the manifest digest, every blob's hash, and <c>inspect --raw</c>.</summary>
    private async Task AssertPullsIdenticalAsync(string host, string repository, string tag, string manifestDigest)
    {
        var reference = Skopeo.Docker(host, repository, tag);
        var dir = _temp.Combine($"pulled-{repository.Replace('/', '-')}-{tag}-{Guid.NewGuid():N}");
        await Skopeo.CopyOrThrowAsync(reference, Skopeo.Dir(dir));
        var pulled = DirImageLayout.Open(dir);
        Assert.Equal(manifestDigest, pulled.ManifestDigest());
        Assert.Empty(pulled.Problems());
        var raw = await Skopeo.InspectRawAsync(reference);
        Assert.Equal(manifestDigest, "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(raw))));
    }

    [Fact]
    public async Task Gc_RunningEverySecondWhilePushesGoOn_KeepsEveryImage_RemovesUnreferenced_SparesUploadsInProgress()
    {
        var images = await BuildImagesAsync("layout", count: 6, firstSeed: 301);
        var storage = _temp.CreateSubdirectory("storage");
        // Grace 30 s: the layers of a push whose manifest follows within it are safe; passes every second. Two passes
        // take well under 30 s even on a loaded machine, so the check on the late blob below proves something.
        var grace = TimeSpan.FromSeconds(30);
        await using var origin = await StartOriginAsync(storage, "--Origin:Gc:Interval=00:00:01", "--Origin:Gc:GracePeriod=00:00:30");
        using var client = new RegistryClient(origin.BaseAddress);

        // Content that must go: an image whose manifest is then DELETEd, and a blob no manifest ever names.
        var deleted = images[0];
        Assert.Equal(deleted.ManifestDigest, await Skopeo.PushAsync(deleted.Reference, Skopeo.Docker(origin.Host, "gc/deleted", "v1"), new SkopeoCopyOptions { PreserveDigests = true }));
        using (var delete = await client.Http.DeleteAsync($"/v2/gc/deleted/manifests/{deleted.ManifestDigest}"))
        {
            Assert.Equal(HttpStatusCode.Accepted, delete.StatusCode);
        }

        var orphan = await client.UploadBytesAsync("gc/orphan", RandomNumberGenerator.GetBytes(100_000));

        // An upload in progress: POST + PATCH, PUT only at the end.
        var partial = RandomNumberGenerator.GetBytes(300_000);
        var session = await client.StartUploadOrThrowAsync("gc/slow");
        using (var patch = await client.PatchAsync(session, new ByteArrayContent(partial[..150_000])))
        {
            Assert.Equal(HttpStatusCode.Accepted, patch.StatusCode);
            session = patch.Headers.Location ?? session;
        }

        // Pushes in two streams while passes run; a push the collector raced would fail with MANIFEST_BLOB_UNKNOWN.
        var pushed = new List<(string Repository, OciImage Image)>();
        var streams = Enumerable.Range(0, 2).Select(stream => Task.Run(async () =>
        {
            for (var i = 1 + stream; i < images.Count; i += 2)
            {
                var repository = $"gc/app{i}";
                var digest = await Skopeo.PushAsync(images[i].Reference, Skopeo.Docker(origin.Host, repository, "v1"), new SkopeoCopyOptions { PreserveDigests = true });
                Assert.Equal(images[i].ManifestDigest, digest);
                lock (pushed)
                {
                    pushed.Add((repository, images[i]));
                }
            }
        })).ToList();
        await Task.WhenAll(streams);
        Assert.Equal(images.Count - 1, pushed.Count);

        // A copy in another repository DELETEd: its blobs stay, as gc/app1 still references every one.
        await Skopeo.PushAsync(images[1].Reference, Skopeo.Docker(origin.Host, "gc/copy", "v1"), new SkopeoCopyOptions { PreserveDigests = true });
        using (var delete = await client.Http.DeleteAsync($"/v2/gc/copy/manifests/{images[1].ManifestDigest}"))
        {
            Assert.Equal(HttpStatusCode.Accepted, delete.StatusCode);
        }

        // A blob PUT whose manifest is not pushed yet, inside the grace period: it survives passes.
        var config = Encoding.UTF8.GetBytes("""{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}""");
        var lateConfig = await client.UploadBytesAsync("gc/late", config);
        var lateUploaded = DateTime.UtcNow;
        await WaitForPassesAsync(2);
        var checkedAt = DateTime.UtcNow - lateUploaded;
        Assert.True(checkedAt < grace, $"two passes took {checkedAt.TotalSeconds:F1} s, longer than the grace period: the check below would prove nothing");
        Assert.True(File.Exists(BlobData(storage, lateConfig)), $"a blob {checkedAt.TotalSeconds:F1} s old (grace {grace.TotalSeconds} s) without its manifest yet was removed");
        var lateManifest = Encoding.UTF8.GetBytes($$"""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{{lateConfig}}","size":{{config.Length}}},"layers":[]}""");
        using (var put = await client.PutManifestAsync("gc/late", "v1", lateManifest, "application/vnd.oci.image.manifest.v1+json"))
        {
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        }

        // Past the grace period, with passes after it: the unreferenced content is gone.
        var deletedOnly = Blobs(deleted).Keys.Except(pushed.SelectMany(p => Blobs(p.Image).Keys)).ToList();
        Assert.Contains(deleted.Layers[^1].Digest, deletedOnly);
        // A removal deletes the data first, then the metainfo, the folder and the links: wait for the whole of it.
        var orphanLink = Path.Combine(storage, "repositories", "gc", "orphan", "_layers", "sha256", orphan.Split(':')[1]);
        await Eventually.AssertAsync(() => !Directory.Exists(Path.GetDirectoryName(BlobData(storage, orphan))) && !Directory.Exists(orphanLink)
            && deletedOnly.All(d => !Directory.Exists(Path.GetDirectoryName(BlobData(storage, d)))), "the orphan and the deleted image's blobs (data, metainfo, folder, links) to be collected", timeout: Settle);
        Assert.False(File.Exists(BlobData(storage, orphan)));

        // The upload in progress outlived passes well past the grace period: it completes, and the blob is there.
        using (var finish = await client.PutDigestAsync(client.Resolve(session), "sha256:" + Convert.ToHexStringLower(SHA256.HashData(partial)), new ByteArrayContent(partial[150_000..])))
        {
            Assert.Equal(HttpStatusCode.Created, finish.StatusCode);
        }

        await WaitForPassesAsync(2);
        foreach (var (repository, image) in pushed)
        {
            await AssertPullsIdenticalAsync(origin.Host, repository, "v1", image.ManifestDigest);
        }

        // An image without layers: skopeo would rewrite it on copy, so its bytes are compared over HTTP.
        using (var late = await client.Http.GetAsync("/v2/gc/late/manifests/v1"))
        {
            Assert.Equal(HttpStatusCode.OK, late.StatusCode);
            Assert.Equal(lateManifest, await late.Content.ReadAsByteArrayAsync());
        }

        Assert.Equal((lateConfig, (long)config.Length), await client.GetBlobDigestAsync("gc/late", lateConfig));
        output.WriteLine($"[test] {Volatile.Read(ref _passes)} passes ran");
    }

    [Fact]
    public async Task GcCommand_DryRun_ListsExactlyWhatTheRealRunRemoves_AndARealRunBesideARunningOriginIsRefused()
    {
        var images = await BuildImagesAsync("layout", count: 2, firstSeed: 311);
        var storage = _temp.CreateSubdirectory("storage");
        var dll = RepositoryPaths.ProjectDll("Origin", "P2PRegistry.Origin");
        string orphan;
        List<(string Digest, long Size)> expected;
        await using (var origin = await StartOriginAsync(storage, "--Origin:Gc:Enabled=false"))
        {
            using var client = new RegistryClient(origin.BaseAddress);
            await Skopeo.PushAsync(images[0].Reference, Skopeo.Docker(origin.Host, "dry/kept", "v1"), new SkopeoCopyOptions { PreserveDigests = true });
            await Skopeo.PushAsync(images[1].Reference, Skopeo.Docker(origin.Host, "dry/deleted", "v1"), new SkopeoCopyOptions { PreserveDigests = true });
            using (var delete = await client.Http.DeleteAsync($"/v2/dry/deleted/manifests/{images[1].ManifestDigest}"))
            {
                Assert.Equal(HttpStatusCode.Accepted, delete.StatusCode);
            }

            orphan = await client.UploadBytesAsync("dry/orphan", RandomNumberGenerator.GetBytes(50_000));

            expected = [.. Blobs(images[1]).Where(b => !Blobs(images[0]).ContainsKey(b.Key)).Select(b => (b.Key, b.Value)).Append((orphan, 50_000L)).OrderBy(b => b.Item1, StringComparer.Ordinal)];
            var refused = await ProcessRunner.RunAsync("dotnet", [dll, "gc", "--storage", storage, "--grace-period", "00:00:00"], TimeSpan.FromMinutes(2));
            Assert.Equal(3, refused.ExitCode);
            Assert.Contains("origin.lock", refused.StandardError, StringComparison.Ordinal);

            // A dry run reads only: it may run beside the origin.
            var beside = await ProcessRunner.RunOrThrowAsync("dotnet", [dll, "gc", "--dry-run", "--storage", storage, "--grace-period", "00:00:00"], TimeSpan.FromMinutes(2));
            Assert.Equal(expected, Listed(beside.StandardOutput, "would remove "));
            await origin.StopAsync();
        }

        var files = Directory.GetFiles(storage, "*", SearchOption.AllDirectories).Order().ToList();
        var dry = await ProcessRunner.RunOrThrowAsync("dotnet", [dll, "gc", "--dry-run", "--storage", storage, "--grace-period", "00:00:00"], TimeSpan.FromMinutes(2));
        output.WriteLine(dry.StandardOutput);
        Assert.Equal(files, Directory.GetFiles(storage, "*", SearchOption.AllDirectories).Order().ToList());
        var real = await ProcessRunner.RunOrThrowAsync("dotnet", [dll, "gc", "--storage", storage, "--grace-period", "00:00:00"], TimeSpan.FromMinutes(2));
        output.WriteLine(real.StandardOutput);

        var wouldRemove = Listed(dry.StandardOutput, "would remove ");
        var removed = Listed(real.StandardOutput, "removed ");
        // What only the deleted image referenced (its manifest, config and layers the kept image does not share), and the orphan.
        Assert.Equal(expected, wouldRemove);
        Assert.Equal(wouldRemove, removed);
        Assert.Contains((images[1].Layers[^1].Digest, images[1].Layers[^1].Size), removed);
        Assert.All(removed, r => Assert.False(File.Exists(BlobData(storage, r.Digest)), $"{r.Digest} is still on disk"));
        Assert.Contains($"total: {expected.Count} blobs, {removed.Sum(r => r.Size)} bytes would remove", dry.StandardOutput, StringComparison.Ordinal);

        await using var restarted = await StartOriginAsync(storage, "--Origin:Gc:Enabled=false");
        await AssertPullsIdenticalAsync(restarted.Host, "dry/kept", "v1", images[0].ManifestDigest);
    }

    private static List<(string Digest, long Size)> Listed(string text, string verb) =>
        [.. text.Split('\n').Where(l => l.StartsWith(verb, StringComparison.Ordinal)).Select(l => l[verb.Length..].Trim().Split(' ')).Select(p => (p[0], long.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture)))];

    [Fact]
    public async Task PullThroughQuota_EvictsLeastRecentlyPulledFirst_NeverPushed_AndAnEvictedImageFillsAgain()
    {
        const string Upstream = "upstream.test:5000";
        // 2 MiB of random bytes each: whether umoci's busybox layers come out identical or not, any three images hold more than any two.
        var images = await BuildImagesAsync("layout", count: 5, firstSeed: 321, randomMiB: 2);
        await using var registry = await DockerRegistryProcess.StartAsync(new DockerRegistryOptions { OnOutputLine = output.WriteLine });
        var names = new[] { "q/a", "q/b", "q/c", "q/d" };
        for (var i = 0; i < names.Length; i++)
        {
            await Skopeo.PushAsync(images[i].Reference, Skopeo.Docker(registry.Host, names[i], "v1"), new SkopeoCopyOptions { PreserveDigests = true });
        }

        // Room for any two of the pulled images, never three: what they hold apart from the pushed image (team/mine).
        var mine = images[4];
        long Size(IEnumerable<int> which) => which.SelectMany(i => Blobs(images[i])).Where(b => !Blobs(mine).ContainsKey(b.Key)).DistinctBy(b => b.Key).Sum(b => b.Value);
        int[][] pairs = [[0, 1], [0, 2], [0, 3], [1, 2], [1, 3], [2, 3]];
        int[][] triples = [[0, 1, 2], [0, 1, 3], [0, 2, 3], [1, 2, 3]];
        var largestPair = pairs.Max(Size);
        var smallestTriple = triples.Min(Size);
        Assert.True(largestPair < smallestTriple, $"two images hold up to {largestPair} bytes, three at least {smallestTriple}");
        var quota = (largestPair + smallestTriple) / 2;
        var storage = _temp.CreateSubdirectory("storage");
        await using var origin = await StartOriginAsync(storage,
            $"--Origin:Upstreams:0:Name={Upstream}", $"--Origin:Upstreams:0:Url={registry.BaseAddress}", "--Origin:Upstreams:0:AllowHttp=true",
            $"--Origin:DefaultUpstream={Upstream}", "--Origin:DockerHub:Enabled=false",
            "--Origin:Gc:Interval=00:00:01", "--Origin:Gc:GracePeriod=00:10:00", $"--Origin:PullThroughCacheBytes={quota}");

        // Pushed content: never evicted, and never counted.
        await Skopeo.PushAsync(mine.Reference, Skopeo.Docker(origin.Host, "team/mine", "v1"), new SkopeoCopyOptions { PreserveDigests = true });

        foreach (var (name, image) in names.Zip(images))
        {
            await AssertPullsIdenticalAsync(origin.Host, name, "v1", image.ManifestDigest);
        }

        // a is pulled again (filled again if a pass evicted it meanwhile): now b and c are the least recently pulled.
        var fillsBefore = registry.CountRequests("GET", $"/v2/q/a/blobs/{images[0].Layers[^1].Digest}", 200);
        await WaitForPassesAsync(2);
        Assert.False(File.Exists(BlobData(storage, images[0].Layers[^1].Digest)), "a, the least recently pulled, was not evicted");
        await AssertPullsIdenticalAsync(origin.Host, "q/a", "v1", images[0].ManifestDigest);
        Assert.Equal(fillsBefore + 1, registry.CountRequests("GET", $"/v2/q/a/blobs/{images[0].Layers[^1].Digest}", 200));
        await WaitForPassesAsync(2);

        bool Held(OciImage image) => File.Exists(BlobData(storage, image.Layers[^1].Digest));
        Assert.True(Held(images[0]), "a, pulled last, was evicted");
        Assert.True(Held(images[3]), "d, pulled second to last, was evicted");
        Assert.False(Held(images[1]), "b stayed though least recently pulled");
        Assert.False(Held(images[2]), "c stayed though less recently pulled than a and d");
        Assert.All(mine.BlobDigests.Append(mine.ManifestDigest), d => Assert.True(File.Exists(BlobData(storage, d)), $"pushed blob {d} was removed"));

        var pushedBlobs = new HashSet<string>(mine.BlobDigests.Append(mine.ManifestDigest), StringComparer.Ordinal);
        var pulledBytes = Directory.EnumerateFiles(Path.Combine(storage, "blobs"), "data", SearchOption.AllDirectories)
            .Where(f => !pushedBlobs.Contains("sha256:" + Path.GetFileName(Path.GetDirectoryName(f))))
            .Sum(f => new FileInfo(f).Length);
        output.WriteLine($"[test] pulled-through bytes on disk {pulledBytes}, quota {quota}");
        Assert.True(pulledBytes <= quota, $"{pulledBytes} bytes of pulled-through content on disk, quota {quota}");

        await AssertPullsIdenticalAsync(origin.Host, "team/mine", "v1", mine.ManifestDigest);
        await AssertPullsIdenticalAsync(origin.Host, "q/b", "v1", images[1].ManifestDigest);
    }
}
