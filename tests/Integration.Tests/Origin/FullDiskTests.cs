using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;

namespace P2PRegistry.Integration.Tests.Origin;

/// <summary>
/// The origin (a real process) on a small tmpfs that the test fills: an upload bigger than the space, a manifest PUT,
/// a skopeo push, a pull-through fill and manifest from docker-registry get a registry error body (507) and leave no
/// partial file; a metainfo computed on a read is served without being kept; pulls of stored blobs keep working; and
/// once space is free the same operations succeed in the same process. The mounts are made and unmounted by the tests
/// (needs root).
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class FullDiskTests(ITestOutputHelper output)
{
    private const string Repository = "disk/full";

    [Fact]
    public async Task UploadsBeyondTheFreeSpace_Get507_LeaveNoPartialFile_PullsKeepWorking_AndSucceedOnceSpaceIsFree()
    {
        await using var disk = await TmpfsMount.CreateAsync(32, "origin-disk");
        var storage = disk.Combine("origin");
        await using var origin = await OriginProcess.StartAsync(new OriginOptions
        {
            StoragePath = storage,
            ExtraArguments = ["--Origin:Push:AllowAnonymous=true"],
            OnOutputLine = Log,
        });
        using var client = new RegistryClient(origin.BaseAddress);

        var small = RandomBytes(64 * 1024, 1);
        Assert.Equal(HttpStatusCode.Created, await UploadAsync(client, small));

        // Bigger than the whole file system.
        var huge = RandomBytes(40 * 1024 * 1024, 2);
        using (var refused = await UploadResponseAsync(client, huge))
        {
            await AssertInsufficientStorageAsync(refused);
        }

        AssertNoPartialFiles(storage);
        await AssertPullsAsync(client, small);

        // The partial upload's space came back: a blob that fits is stored.
        var fits = RandomBytes(8 * 1024 * 1024, 3);
        Assert.Equal(HttpStatusCode.Created, await UploadAsync(client, fits));
        await AssertPullsAsync(client, fits);

        // Fill what is left, then try a blob and a manifest.
        var filled = disk.Fill("filler");
        output.WriteLine($"filler: {filled} bytes, {disk.FreeBytes} bytes free");
        var later = RandomBytes(4 * 1024 * 1024, 4);
        using (var refused = await UploadResponseAsync(client, later))
        {
            await AssertInsufficientStorageAsync(refused);
        }

        using (var manifest = await PutManifestAsync(client, small))
        {
            await AssertInsufficientStorageAsync(manifest);
        }

        AssertNoPartialFiles(storage);
        await AssertPullsAsync(client, small);
        await AssertPullsAsync(client, fits);

        File.Delete(disk.Combine("filler"));
        Assert.Equal(HttpStatusCode.Created, await UploadAsync(client, later));
        await AssertPullsAsync(client, later);
        using (var manifest = await PutManifestAsync(client, small))
        {
            Assert.Equal(HttpStatusCode.Created, manifest.StatusCode);
        }

        AssertNoPartialFiles(storage);
    }

    [Fact]
    public async Task SkopeoPushOntoAFullDisk_Fails507_LeavesNothing_AndTheSamePushSucceedsOnceSpaceIsFree()
    {
        await using var disk = await TmpfsMount.CreateAsync(48, "origin-push-disk");
        var storage = disk.Combine("origin");
        using var work = new TempDirectory("origin-push-full");
        var image = await OciImageBuilder.BuildAsync(work.Combine("layout"), "v1", randomMiB: 16, seed: 71);
        await using var origin = await OriginProcess.StartAsync(new OriginOptions { StoragePath = storage, OnOutputLine = Log });
        var destination = Skopeo.Docker(origin.Host, Repository, "v1");

        // Room for the busybox layer, not for the 16 MiB one.
        disk.Fill("filler", disk.FreeBytes - 6L * 1024 * 1024);
        var refused = await Skopeo.CopyAsync(image.Reference, destination, new SkopeoCopyOptions { PreserveDigests = true });
        output.WriteLine($"[test] skopeo on a full disk: exit {refused.ExitCode}: {refused.StandardError}");
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("507", refused.StandardError + refused.StandardOutput, StringComparison.Ordinal);
        AssertNoPartialFiles(storage);
        Assert.True(await DiskFullCountAsync(origin.BaseAddress, "upload") >= 1, "the refused upload was not counted as disk_full{path=\"upload\"}");

        File.Delete(disk.Combine("filler"));
        var pushed = await Skopeo.PushAsync(image.Reference, destination, new SkopeoCopyOptions { PreserveDigests = true });
        Assert.Equal(image.ManifestDigest, pushed);
        var copy = work.Combine("pulled");
        await Skopeo.CopyOrThrowAsync(destination, Skopeo.Dir(copy));
        var layout = DirImageLayout.Open(copy);
        Assert.Equal(image.ManifestDigest, layout.ManifestDigest());
        Assert.Empty(layout.Problems());
        AssertNoPartialFiles(storage);
    }

    [Fact]
    public async Task PullThroughOntoAFullDisk_Blob507AndManifest507_FillLeavesNothing_AndFillsOnceSpaceIsFree()
    {
        const string upstreamName = "upstream.disk.test:5000";
        const string ns = "?ns=upstream.disk.test%3A5000";
        await using var upstream = await DockerRegistryProcess.StartAsync(new DockerRegistryOptions { OnOutputLine = Log });
        using var work = new TempDirectory("origin-fill-full");
        var image = await OciImageBuilder.BuildAsync(work.Combine("layout"), "v1", randomMiB: 16, seed: 72);
        await Skopeo.PushAsync(image.Reference, Skopeo.Docker(upstream.Host, "team/app", "v1"), new SkopeoCopyOptions { PreserveDigests = true });

        await using var disk = await TmpfsMount.CreateAsync(48, "origin-fill-disk");
        var storage = disk.Combine("origin");
        await using var origin = await OriginProcess.StartAsync(new OriginOptions
        {
            StoragePath = storage,
            ExtraArguments = [$"--Origin:Upstreams:0:Name={upstreamName}", $"--Origin:Upstreams:0:Url={upstream.BaseAddress}", "--Origin:Upstreams:0:AllowHttp=true"],
            OnOutputLine = Log,
        });
        using var http = new HttpClient { BaseAddress = origin.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        var big = image.Layers.MaxBy(l => l.Size)!;

        // A fill bigger than the free space: refused at its preallocation, before any header (507), its temp file gone.
        disk.Fill("filler", disk.FreeBytes - 6L * 1024 * 1024);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using (var refused = await http.GetAsync($"/v2/team/app/blobs/{big.Digest}{ns}"))
        {
            await AssertInsufficientStorageAsync(refused);
        }

        output.WriteLine($"[test] fill refused in {clock.ElapsedMilliseconds} ms");
        Assert.True(await DiskFullCountAsync(origin.BaseAddress, "fill") >= 1, "the refused fill was not counted as disk_full{path=\"fill\"}");
        AssertNoPartialFiles(storage);

        // Nothing left at all: the pull-through manifest cannot be stored either.
        disk.Fill("filler2");
        using (var refused = await http.GetAsync($"/v2/team/app/manifests/{image.ManifestDigest}{ns}"))
        {
            await AssertInsufficientStorageAsync(refused);
        }

        Assert.True(await DiskFullCountAsync(origin.BaseAddress, "upstream_manifest") >= 1, "the refused manifest store was not counted");
        AssertNoPartialFiles(storage);

        // Space is back: the same process fills both, with the upstream's bytes.
        File.Delete(disk.Combine("filler"));
        File.Delete(disk.Combine("filler2"));
        using (var manifest = await http.GetAsync($"/v2/team/app/manifests/{image.ManifestDigest}{ns}"))
        {
            Assert.Equal(HttpStatusCode.OK, manifest.StatusCode);
            Assert.Equal(image.ManifestDigest, Digest(await manifest.Content.ReadAsByteArrayAsync()));
        }

        foreach (var digest in image.BlobDigests)
        {
            using var blob = await http.GetAsync($"/v2/team/app/blobs/{digest}{ns}");
            Assert.Equal(HttpStatusCode.OK, blob.StatusCode);
            Assert.Equal(digest, Digest(await blob.Content.ReadAsByteArrayAsync()));
        }

        AssertNoPartialFiles(storage);
    }

    [Fact]
    public async Task MetaInfoComputedOnAFullDisk_IsServedWithoutBeingKept_AndKeptOnceSpaceIsFree()
    {
        await using var disk = await TmpfsMount.CreateAsync(16, "origin-metainfo-disk");
        var storage = disk.Combine("origin");
        await using var origin = await OriginProcess.StartAsync(new OriginOptions
        {
            StoragePath = storage,
            ExtraArguments = ["--Origin:Push:AllowAnonymous=true"],
            OnOutputLine = Log,
        });
        using var client = new RegistryClient(origin.BaseAddress);
        var blob = RandomBytes(1024 * 1024, 5);
        Assert.Equal(HttpStatusCode.Created, await UploadAsync(client, blob));

        // A lost metainfo (a crash between its write and the blob's rename) is computed again on the next read.
        var hex = Digest(blob)["sha256:".Length..];
        var metaInfoFile = Path.Combine(storage, "blobs", "sha256", hex[..2], hex, "metainfo");
        Assert.True(File.Exists(metaInfoFile), metaInfoFile);
        File.Delete(metaInfoFile);
        disk.Fill("filler");

        using (var served = await client.Http.GetAsync($"/p2p/v1/metainfo/{Digest(blob)}"))
        {
            Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        }

        Assert.False(File.Exists(metaInfoFile), "a metainfo was kept on a full disk");
        Assert.True(await DiskFullCountAsync(origin.BaseAddress, "metainfo") >= 1, "the metainfo not kept was not counted");
        AssertNoPartialFiles(storage);
        await AssertPullsAsync(client, blob);

        File.Delete(disk.Combine("filler"));
        using (var served = await client.Http.GetAsync($"/p2p/v1/metainfo/{Digest(blob)}"))
        {
            Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        }

        Assert.True(File.Exists(metaInfoFile), "the metainfo was not kept once space was back");
        AssertNoPartialFiles(storage);
    }

    private static async Task<long> DiskFullCountAsync(Uri origin, string writePath)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var text = await http.GetStringAsync(new Uri(origin, "/metrics"));
        return text.Split('\n')
            .Where(l => l.StartsWith("p2pregistry_origin_disk_full", StringComparison.Ordinal) && l.Contains($"path=\"{writePath}\"", StringComparison.Ordinal))
            .Sum(l => (long)double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
    }

    private static async Task AssertInsufficientStorageAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.InsufficientStorage, $"{(int)response.StatusCode}: {body}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(body);
        Assert.Equal("UNAVAILABLE", json.RootElement.GetProperty("errors")[0].GetProperty("code").GetString());
        Assert.DoesNotContain("   at ", body, StringComparison.Ordinal);
    }

    /// <summary>Upload sessions and temp files: none may remain after a refused write.</summary>
    private void AssertNoPartialFiles(string storage)
    {
        var uploads = Path.Combine(storage, "uploads");
        var leftovers = Directory.Exists(uploads) ? Directory.GetFileSystemEntries(uploads, "*", SearchOption.AllDirectories) : [];
        var temps = Directory.GetFiles(storage, "*.tmp", SearchOption.AllDirectories);
        foreach (var entry in Directory.GetFileSystemEntries(storage, "*", SearchOption.AllDirectories))
        {
            output.WriteLine($"  {Path.GetRelativePath(storage, entry)}");
        }

        Assert.Empty(leftovers);
        Assert.Empty(temps);
    }

    private static async Task AssertPullsAsync(RegistryClient client, byte[] content)
    {
        using var get = await client.Http.GetAsync($"/v2/{Repository}/blobs/{Digest(content)}");
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(Digest(content), Digest(await get.Content.ReadAsByteArrayAsync()));
    }

    private static async Task<HttpStatusCode> UploadAsync(RegistryClient client, byte[] content)
    {
        using var response = await UploadResponseAsync(client, content);
        return response.StatusCode;
    }

    private static async Task<HttpResponseMessage> UploadResponseAsync(RegistryClient client, byte[] content)
    {
        var start = await client.StartUploadAsync(Repository);
        if (start.StatusCode != HttpStatusCode.Accepted)
        {
            return start;
        }

        var location = client.Resolve(start.Headers.Location!);
        start.Dispose();
        var body = new ByteArrayContent(content);
        body.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return await client.PutDigestAsync(location, Digest(content), body);
    }

    private static Task<HttpResponseMessage> PutManifestAsync(RegistryClient client, byte[] blob)
    {
        var descriptor = new Dictionary<string, object> { ["mediaType"] = "application/vnd.oci.image.layer.v1.tar", ["digest"] = Digest(blob), ["size"] = blob.Length };
        var manifest = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = "application/vnd.oci.image.manifest.v1+json",
            ["config"] = new Dictionary<string, object> { ["mediaType"] = "application/vnd.oci.image.config.v1+json", ["digest"] = Digest(blob), ["size"] = blob.Length },
            ["layers"] = new[] { descriptor },
        });
        var content = new ByteArrayContent(manifest);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/vnd.oci.image.manifest.v1+json");
        return client.Http.PutAsync($"/v2/{Repository}/manifests/v1", content);
    }

    private static string Digest(byte[] content) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(content));

    private static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private void Log(string line)
    {
        try
        {
            output.WriteLine(line);
        }
        catch (InvalidOperationException)
        {
        }
    }
}
