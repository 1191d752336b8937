using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using P2PRegistry.Core.Content;

namespace P2PRegistry.Origin.Tests.Uploads;

public sealed class UploadLifecycleTests
{
    [Fact]
    public async Task Restart_RemovesLeftoverUploads_OldSessionsUnknown()
    {
        var storage = OriginServer.NewStoragePath();
        try
        {
            string location;
            await using (var first = await OriginServer.StartAsync(storagePath: storage))
            {
                location = await first.StartUploadAsync("life/restart");
                using var patch = await first.Client.PatchAsync(location, OriginServer.Bytes(OriginServer.RandomBytes(5000, 41)));
                Assert.Equal(HttpStatusCode.Accepted, patch.StatusCode);
                Assert.NotEmpty(Directory.GetFileSystemEntries(Path.Combine(storage, "uploads")));
            }

            // A crashed origin also leaves stray files behind.
            await File.WriteAllTextAsync(Path.Combine(storage, "uploads", "stray.tmp"), "x");

            await using var second = await OriginServer.StartAsync(storagePath: storage);
            Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(storage, "uploads")));
            using var resumed = await second.Client.PatchAsync(location, OriginServer.Bytes([1]));
            await OriginServer.AssertErrorAsync(resumed, HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
            using var put = await second.Client.PutAsync($"{location}?digest={Digest.Compute([1]).Value}", null);
            await OriginServer.AssertErrorAsync(put, HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
        }
        finally
        {
            Directory.Delete(storage, recursive: true);
        }
    }

    [Fact]
    public async Task Restart_KeepsStoredBlobsAndManifests()
    {
        var storage = OriginServer.NewStoragePath();
        try
        {
            (Digest Digest, byte[] Body) manifest;
            await using (var first = await OriginServer.StartAsync(storagePath: storage))
            {
                manifest = await first.PushImageAsync("life/persist", "v1");
            }

            await using var second = await OriginServer.StartAsync(storagePath: storage);
            using var get = await second.Client.GetAsync("/v2/life/persist/manifests/v1");
            Assert.Equal(HttpStatusCode.OK, get.StatusCode);
            Assert.Equal(manifest.Body, await get.Content.ReadAsByteArrayAsync());
        }
        finally
        {
            Directory.Delete(storage, recursive: true);
        }
    }

    [Fact]
    public async Task IdleSession_ExpiresAfterUploadExpiry()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var origin = await OriginServer.StartAsync(["--Origin:UploadExpiry=00:10:00"], configureServices: s => s.AddSingleton<TimeProvider>(time));
        var idle = await origin.StartUploadAsync("life/expiry");
        time.Advance(TimeSpan.FromMinutes(6));
        var active = await origin.StartUploadAsync("life/expiry");
        time.Advance(TimeSpan.FromMinutes(5));

        // The sweep runs on the (fake) timer: wait, bounded, for it to remove the idle session.
        var id = idle[(idle.LastIndexOf('/') + 1)..];
        var gone = false;
        for (var i = 0; i < 200 && !gone; i++)
        {
            using var status = await origin.Client.GetAsync(idle);
            gone = status.StatusCode == HttpStatusCode.NotFound;
            if (!gone)
            {
                await Task.Delay(25);
            }
        }

        Assert.True(gone, "idle upload session was not expired");
        Assert.False(Directory.Exists(Path.Combine(origin.StoragePath, "uploads", id)));
        using var stillThere = await origin.Client.GetAsync(active);
        Assert.Equal(HttpStatusCode.NoContent, stillThere.StatusCode);
    }

    [Fact]
    public async Task IdleSession_HoldsNoFileDescriptor()
    {
        await using var origin = await OriginServer.StartAsync();
        var location = await origin.StartUploadAsync("life/fd");
        using var patch = await origin.Client.PatchAsync(location, OriginServer.Bytes(new byte[10_000]));
        Assert.Equal(HttpStatusCode.Accepted, patch.StatusCode);

        var data = Path.Combine(origin.StoragePath, "uploads", location[(location.LastIndexOf('/') + 1)..], "data");
        Assert.True(File.Exists(data));
        var open = Directory.GetFiles("/proc/self/fd")
            .Select(fd => { try { return new FileInfo(fd).LinkTarget; } catch (IOException) { return null; } })
            .Where(target => target == data);
        Assert.Empty(open);
    }

    [Fact]
    public async Task UploadOverMaxUploadBytes_413_SessionRemoved()
    {
        await using var origin = await OriginServer.StartAsync(["--Origin:MaxUploadBytes=1000"]);
        var location = await origin.StartUploadAsync("life/limit");
        using var declared = await origin.Client.PatchAsync(location, OriginServer.Bytes(new byte[1001]));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, declared.StatusCode);
        using var status = await origin.Client.GetAsync(location);
        await OriginServer.AssertErrorAsync(status, HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");

        var streamedLocation = await origin.StartUploadAsync("life/limit");
        using var body = new StreamContent(new GeneratedStream(5000, 3));
        using var streamed = await origin.Client.PatchAsync(streamedLocation, body);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, streamed.StatusCode);

        var content = OriginServer.RandomBytes(1000, 42);
        await origin.PushBlobAsync("life/limit", content);
    }
}
