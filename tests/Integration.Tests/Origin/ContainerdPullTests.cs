namespace P2PRegistry.Integration.Tests.Origin;

/// <summary>
/// containerd (a private daemon per test, so every blob really comes from the registry) pulls with
/// <c>ctr images pull --plain-http</c> and unpacks; the unpacked snapshot, mounted, holds the exact files the
/// image was built from.
/// </summary>
public abstract class ContainerdPullTests<TFixture> : IClassFixture<TFixture>, IDisposable
    where TFixture : class, IRegistryFixture
{
    private readonly TFixture _fixture;
    private readonly ITestOutputHelper _output;

    protected ContainerdPullTests(TFixture fixture, ITestOutputHelper output)
    {
        _fixture = fixture;
        _output = output;
        fixture.Output.Attach(output);
    }

    private IRegistryProcess Registry => _fixture.Registry;

    [Fact]
    public async Task CtrPull_OciImage_PullsUnpacksAndRuns()
    {
        var image = (await TestImages.GetAsync()).Big;
        var reference = $"{Registry.Host}/ctr/oci:v1";
        await Skopeo.PushAsync(image.Reference, "docker://" + reference, new SkopeoCopyOptions { PreserveDigests = true });

        await using var containerd = await ContainerdProcess.StartAsync(_output.WriteLine);
        await PullAndVerifyAsync(containerd, reference, image);

        // The image runs: busybox's sh from layer 1 reads the file from layer 2. `ctr run` without a terminal now and then
        // exits 0 having copied none of a short-lived task's output (seen once in six full runs, on a busy machine), so
        // an empty output is tried again, at most three times in all; a wrong or missing file never passes.
        var output = "";
        for (var attempt = 0; attempt < 3 && output.Length == 0; attempt++)
        {
            var run = await containerd.CtrOrThrowAsync(
                ["run", "--rm", reference, "run-" + Guid.NewGuid().ToString("N")[..8], "/bin/sh", "-c", $"sha256sum {image.RandomFilePath}"],
                TimeSpan.FromMinutes(1));
            output = run.StandardOutput;
        }

        Assert.StartsWith(image.RandomFileSha256 + " ", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CtrPull_ThreeNodesAtOnce_AllUnpackTheSameImage()
    {
        var image = (await TestImages.GetAsync()).Big;
        var reference = $"{Registry.Host}/ctr/fanout:v1";
        await Skopeo.PushAsync(image.Reference, "docker://" + reference, new SkopeoCopyOptions { PreserveDigests = true });

        var nodes = new List<ContainerdProcess>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                nodes.Add(await ContainerdProcess.StartAsync(_output.WriteLine));
            }

            // The same 64 MiB blob read by three clients at once.
            await Task.WhenAll(nodes.Select(node => PullAndVerifyAsync(node, reference, image)));
        }
        finally
        {
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task CtrPull_DockerSchema2Image_PullsAndUnpacksTheBuiltFiles()
    {
        var image = (await TestImages.GetAsync()).SmallAmd64;
        var reference = $"{Registry.Host}/ctr/v2s2:v1";
        await Skopeo.PushAsync(image.Reference, "docker://" + reference, new SkopeoCopyOptions { Format = "v2s2" });

        await using var containerd = await ContainerdProcess.StartAsync(_output.WriteLine);
        await PullAndVerifyAsync(containerd, reference, image);
    }

    [Theory]
    [InlineData("oci")]
    [InlineData("v2s2")]
    public async Task CtrPull_MultiPlatformIndex_UnpacksTheAmd64Image(string format)
    {
        var index = (await TestImages.GetAsync()).MultiPlatform;
        var reference = $"{Registry.Host}/ctr/multi-{format}:v1";
        var pushed = await Skopeo.PushAsync(index.Reference, "docker://" + reference, new SkopeoCopyOptions { All = true, Format = format });

        await using var containerd = await ContainerdProcess.StartAsync(_output.WriteLine);
        var amd64 = index.Images.Single(i => i.Architecture == "amd64");
        await containerd.CtrOrThrowAsync(["images", "pull", "--plain-http", "--platform", "linux/amd64", reference], TimeSpan.FromMinutes(2));
        await VerifyUnpackedAsync(containerd, reference, amd64, "linux/amd64");

        var images = await containerd.Ctr("images", "ls");
        Assert.Contains(pushed, images.StandardOutput, StringComparison.Ordinal);
        var expectedType = format == "oci" ? "application/vnd.oci.image.index.v1+json" : "application/vnd.docker.distribution.manifest.list.v2+json";
        Assert.Contains(expectedType, images.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CtrPull_KilledHalfwayThenRetried_ResumesWithRangeAndUnpacks()
    {
        var image = (await TestImages.GetAsync()).Big;
        await Skopeo.PushAsync(image.Reference, Skopeo.Docker(Registry.Host, "ctr/resume", "v1"), new SkopeoCopyOptions { PreserveDigests = true });

        // 16 MiB/s through the proxy: the 64 MiB layer takes ~4 s, and ctr dies a quarter of the way in.
        await using var proxy = TcpProxy.Start(Registry.Port, bytesPerSecond: 16L << 20);
        var reference = $"{proxy.Host}/ctr/resume:v1";
        await using var containerd = await ContainerdProcess.StartAsync(_output.WriteLine);
        await using (var pull = ManagedProcess.Start(new ManagedProcessOptions("ctr", ["-a", containerd.Socket, "images", "pull", "--plain-http", reference])
        {
            Name = "ctr-pull",
            OnOutputLine = _output.WriteLine,
        }))
        {
            for (var i = 0; i < 600 && proxy.BytesToClients < 16L << 20 && !pull.HasExited; i++)
            {
                await Task.Delay(50);
            }

            Assert.False(pull.HasExited, "the throttled pull ended before it could be interrupted: " + pull.Describe());
            pull.Kill();
        }

        var active = await containerd.Ctr("content", "active");
        _output.WriteLine("[test] ctr content active after the kill:\n" + active.StandardOutput);
        Assert.Contains(image.Layers[^1].Digest, active.StandardOutput, StringComparison.Ordinal);

        proxy.SetRate(0);
        var requestsBefore = proxy.ClientTraffic().Count;
        await containerd.CtrOrThrowAsync(["images", "pull", "--plain-http", reference], TimeSpan.FromMinutes(2));

        var resumed = proxy.ClientTraffic().Skip(requestsBefore)
            .Where(t => t.Contains($"/blobs/{image.Layers[^1].Digest}", StringComparison.Ordinal))
            .ToList();
        Assert.Contains(resumed, t => t.Contains("range: bytes=", StringComparison.OrdinalIgnoreCase));
        await VerifyUnpackedAsync(containerd, reference, image);
    }

    [Fact]
    public async Task CtrPush_ImageContainerdHolds_SkopeoPullsItBackIntact()
    {
        var image = (await TestImages.GetAsync()).Big;
        var source = $"{Registry.Host}/ctr/source:v1";
        await Skopeo.PushAsync(image.Reference, "docker://" + source, new SkopeoCopyOptions { PreserveDigests = true });
        await using var containerd = await ContainerdProcess.StartAsync(_output.WriteLine);
        await containerd.CtrOrThrowAsync(["images", "pull", "--plain-http", source], TimeSpan.FromMinutes(2));

        // containerd uploads differently from skopeo (POST, then one PUT ?digest= with the body). It would
        // rather mount blobs from the repository it pulled them from (its distribution.source labels say which):
        // drop those labels so every blob really travels.
        foreach (var digest in image.BlobDigests)
        {
            var labels = (await containerd.Ctr("content", "ls")).StandardOutput.Split('\n')
                .Single(l => l.StartsWith(digest, StringComparison.Ordinal))
                .Split([' ', '\t', ','], StringSplitOptions.RemoveEmptyEntries)
                .Where(f => f.StartsWith("containerd.io/distribution.source.", StringComparison.Ordinal))
                .Select(f => f.Split('=')[0] + "=");
            await containerd.Ctr(["content", "label", digest, .. labels]);
        }

        await using var proxy = TcpProxy.Start(Registry.Port);
        var pushed = $"{proxy.Host}/ctr/pushed:v1";
        await containerd.Ctr("images", "tag", source, pushed);
        await containerd.CtrOrThrowAsync(["images", "push", "--plain-http", pushed], TimeSpan.FromMinutes(2));
        Assert.DoesNotContain(proxy.ClientTraffic(), t => t.Contains("mount=", StringComparison.Ordinal));
        Assert.Equal(image.BlobDigests.Count, proxy.ClientTraffic().Sum(t => CountOf(t, "PUT /v2/ctr/pushed/blobs/uploads/")));

        using var temp = new TempDirectory("ctrpush");
        await Skopeo.CopyOrThrowAsync(Skopeo.Docker(Registry.Host, "ctr/pushed", "v1"), Skopeo.Dir(temp.Path));
        var dir = DirImageLayout.Open(temp.Path);
        Assert.Equal(image.ManifestDigest, dir.ManifestDigest());
        Assert.Empty(dir.Problems());
        Assert.Equal(image.BlobDigests.Order(), dir.ContentFiles().Keys.Order());
    }

    public void Dispose() => _fixture.Output.Attach(null);

    private static int CountOf(string text, string value)
    {
        var count = 0;
        for (var i = text.IndexOf(value, StringComparison.Ordinal); i >= 0; i = text.IndexOf(value, i + value.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    private static async Task PullAndVerifyAsync(ContainerdProcess containerd, string reference, OciImage image, string platform = "linux/amd64")
    {
        await containerd.CtrOrThrowAsync(["images", "pull", "--plain-http", "--platform", platform, reference], TimeSpan.FromMinutes(2));
        await VerifyUnpackedAsync(containerd, reference, image, platform);
    }

    private static async Task VerifyUnpackedAsync(ContainerdProcess containerd, string reference, OciImage image, string platform = "linux/amd64")
    {

        // Every blob of the image is in containerd's content store, verified against its digest at commit.
        var content = await containerd.Ctr("content", "ls", "-q");
        foreach (var digest in image.BlobDigests)
        {
            Assert.Contains(digest, content.StandardOutput, StringComparison.Ordinal);
        }

        // `ctr images check`: REF TYPE DIGEST STATUS SIZE UNPACKED → "complete (n/n)" and unpacked "true".
        var check = await containerd.Ctr("images", "check", $"name=={reference}");
        var line = check.StandardOutput.Split('\n').Single(l => l.StartsWith(reference + " ", StringComparison.Ordinal));
        var blobs = image.Layers.Count + 1;
        Assert.Contains($"complete ({blobs}/{blobs})", line, StringComparison.Ordinal);
        Assert.EndsWith("true", line.TrimEnd(), StringComparison.Ordinal);

        // Mount the unpacked snapshot read-only and read back what the image was built from.
        var target = Directory.CreateDirectory(Path.Combine(containerd.Directory, "mnt")).FullName;
        await containerd.Ctr("images", "mount", "--platform", platform, reference, target);
        try
        {
            var random = Path.Combine(target, image.RandomFilePath.TrimStart('/'));
            Assert.Equal(image.RandomFileSize, new FileInfo(random).Length);
            Assert.Equal("sha256:" + image.RandomFileSha256, DirImageLayout.FileDigest(random));
            Assert.Equal(DirImageLayout.FileDigest(OciImageBuilder.BusyboxPath), DirImageLayout.FileDigest(Path.Combine(target, "bin", "busybox")));
            Assert.Equal("busybox", new FileInfo(Path.Combine(target, "bin", "sh")).LinkTarget);
        }
        finally
        {
            await containerd.CtrAsync(["images", "unmount", target]);
        }
    }
}

[Trait("Category", TestCategories.Integration)]
[Trait("Registry", "origin")]
public sealed class OriginContainerdPullTests(OriginFixture fixture, ITestOutputHelper output)
    : ContainerdPullTests<OriginFixture>(fixture, output);

[Trait("Category", TestCategories.Integration)]
[Trait("Registry", "docker-registry")]
public sealed class DockerRegistryContainerdPullTests(DockerRegistryFixture fixture, ITestOutputHelper output)
    : ContainerdPullTests<DockerRegistryFixture>(fixture, output);
