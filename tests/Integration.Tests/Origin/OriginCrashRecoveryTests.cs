using System.Net;
using P2PRegistry.Testing.Http;

namespace P2PRegistry.Integration.Tests.Origin;

/// <summary>
/// The origin SIGKILLed in the middle of a slow upload and restarted on the same storage: nothing partial is
/// visible or left in <c>blobs/</c>, <c>uploads/</c> is cleaned, what was pushed before is intact, and the same
/// image pushes and pulls back intact.
/// </summary>
[Trait("Category", TestCategories.Integration)]
[Trait("Registry", "origin")]
public sealed class OriginCrashRecoveryTests(ITestOutputHelper output) : IDisposable
{
    private const string Repository = "resilience/crash";
    private readonly TempDirectory _temp = new("crash");

    [Fact]
    public async Task Origin_KilledDuringSlowUpload_RestartsCleanAndAcceptsTheSamePush()
    {
        var image = (await TestImages.GetAsync()).Big;
        var layer = image.Layers[^1];
        var blobFile = OciImageBuilder.BlobPath(image.LayoutPath, layer.Digest);
        var storage = _temp.CreateSubdirectory("storage");
        await using var origin = await OriginProcess.StartAsync(new OriginOptions { StoragePath = storage, OnOutputLine = output.WriteLine });

        // An image pushed before the crash must survive it.
        var before = (await TestImages.GetAsync()).SmallAmd64;
        var beforeReference = Skopeo.Docker(origin.Host, "resilience/before", "v1");
        await Skopeo.PushAsync(before.Reference, beforeReference, new SkopeoCopyOptions { PreserveDigests = true });

        Uri interrupted;
        using (var client = new RegistryClient(origin.BaseAddress))
        {
            var location = await client.StartUploadOrThrowAsync(Repository);
            interrupted = location;
            // ~10 MiB/s: the whole layer would take ~7 s; the origin dies after about a second of it.
            var content = new FileRangeContent(blobFile, chunkSize: 256 * 1024, delayPerChunk: TimeSpan.FromMilliseconds(25));
            var upload = client.PatchAsync(location, content);
            await content.WaitForBytesWrittenAsync(8L << 20, TimeSpan.FromSeconds(60));

            // The origin must really hold part of the blob on disk when it dies, or this test proves nothing.
            for (var i = 0; i < 100 && !FilesHoldingAPrefixOf(storage, blobFile).Any(); i++)
            {
                await Task.Delay(50);
            }

            Assert.NotEmpty(FilesHoldingAPrefixOf(storage, blobFile));
            output.WriteLine($"[test] {content.BytesWritten} bytes sent; files under storage before the kill: {DescribeFiles(storage)}");
            origin.Kill();

            var outcome = await Record.ExceptionAsync(async () => (await upload).Dispose());
            output.WriteLine($"[test] the client saw: {outcome?.GetType().Name ?? "a response"} after {content.BytesWritten} bytes");
            Assert.True(content.BytesWritten < layer.Size, "the upload finished before the origin was killed: the test proved nothing");
        }

        await origin.RestartAsync();
        using (var client = new RegistryClient(origin.BaseAddress))
        {
            using var head = await client.HeadBlobAsync(Repository, layer.Digest);
            Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);

            // The session died with the process: it is unknown now, not resumable from torn data.
            using var status = await client.Http.GetAsync(interrupted);
            Assert.Equal(HttpStatusCode.NotFound, status.StatusCode);
        }

        var blobs = Path.Combine(storage, "blobs");
        var partial = FilesHoldingAPrefixOf(blobs, blobFile).ToList();
        Assert.True(partial.Count == 0, $"files under blobs/ hold part of the interrupted upload: {string.Join(", ", partial)}");
        Assert.DoesNotContain(AllFiles(blobs), f => f.Contains(layer.Digest.Split(':')[1], StringComparison.Ordinal));

        // The origin may clean up in the background just after start; give it a moment.
        var uploads = Path.Combine(storage, "uploads");
        for (var i = 0; i < 50 && AllFiles(uploads).Any(); i++)
        {
            await Task.Delay(100);
        }

        Assert.Empty(AllFiles(uploads));

        var survivor = _temp.Combine("survivor");
        await Skopeo.CopyOrThrowAsync(beforeReference, Skopeo.Dir(survivor));
        Assert.Equal(before.ManifestDigest, DirImageLayout.Open(survivor).ManifestDigest());
        Assert.Empty(DirImageLayout.Open(survivor).Problems());

        var destination = Skopeo.Docker(origin.Host, Repository, "v1");
        Assert.Equal(image.ManifestDigest, await Skopeo.PushAsync(image.Reference, destination, new SkopeoCopyOptions { PreserveDigests = true }));
        var dir = _temp.Combine("pulled");
        await Skopeo.CopyOrThrowAsync(destination, Skopeo.Dir(dir));
        var pulled = DirImageLayout.Open(dir);
        Assert.Equal(image.ManifestDigest, pulled.ManifestDigest());
        Assert.Empty(pulled.Problems());
        Assert.Equal(image.BlobDigests.Order(), pulled.ContentFiles().Keys.Order());
    }

    public void Dispose() => _temp.Dispose();

    private static IEnumerable<string> AllFiles(string directory) =>
        Directory.Exists(directory) ? Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories) : [];

    /// <summary>Files that are shorter than the blob and start with its first bytes: what a torn write leaves.</summary>
    private static IEnumerable<string> FilesHoldingAPrefixOf(string directory, string blobFile)
    {
        var blobLength = new FileInfo(blobFile).Length;
        var head = new byte[64 * 1024];
        using (var blob = File.OpenRead(blobFile))
        {
            blob.ReadExactly(head);
        }

        foreach (var file in AllFiles(directory))
        {
            var length = new FileInfo(file).Length;
            if (length == 0 || length >= blobLength)
            {
                continue;
            }

            var compare = (int)Math.Min(length, head.Length);
            var start = new byte[compare];
            using (var stream = File.OpenRead(file))
            {
                stream.ReadExactly(start);
            }

            if (start.AsSpan().SequenceEqual(head.AsSpan(0, compare)))
            {
                yield return $"{file} ({length} bytes)";
            }
        }
    }

    private static string DescribeFiles(string directory)
    {
        var files = AllFiles(directory).Select(f => $"{Path.GetRelativePath(directory, f)} ({new FileInfo(f).Length} B)").ToList();
        return files.Count == 0 ? "none" : string.Join(", ", files);
    }
}
