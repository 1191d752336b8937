using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.DependencyInjection;
using P2PRegistry.Core.Content;
using P2PRegistry.Origin.Cluster;
using P2PRegistry.Testing;
using P2PRegistry.Testing.FileSystem;
using P2PRegistry.Testing.Networking;

namespace P2PRegistry.Origin.Tests.Cluster;

/// <summary>
/// Two in-process origins (R = 2), member 1 storing on a 4 MiB tmpfs: a replica or a manifest it has no room for is
/// refused 507 with the OCI body and counted on its disk_full path; the sending member counts the copy as missing and
/// does not mark member 1 down.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class ClusterFullDiskTests : IAsyncLifetime
{
    private const string Secret = "cluster-secret-for-full-disk-01";
    private readonly string _secretFile = Path.Combine(Path.GetTempPath(), $"p2preg-cluster-full-{Guid.NewGuid():N}");
    private readonly string[] _urls = [.. Enumerable.Range(0, 2).Select(_ => $"http://127.0.0.1:{FreePort.Next()}")];
    private readonly OriginServer?[] _origins = new OriginServer?[2];
    private TmpfsMount? _tmpfs;

    public async Task InitializeAsync()
    {
        await File.WriteAllTextAsync(_secretFile, Secret + "\n");
        _tmpfs = await TmpfsMount.CreateAsync(4, "cluster-full");
        for (var i = 0; i < 2; i++)
        {
            var args = new List<string> { "--urls", _urls[i], $"--Origin:Cluster:Self={_urls[i]}", $"--Origin:Cluster:SecretFile={_secretFile}",
                "--Origin:Cluster:AllowInsecureSecret=true", "--Origin:Cluster:RequestTimeout=00:00:30", "--Origin:Cluster:DownTime=01:00:00",
                "--Origin:Cluster:RepairInterval=01:00:00" };
            args.AddRange(_urls.Select((url, n) => $"--Origin:Cluster:Members:{n}={url}"));
            _origins[i] = await OriginServer.StartAsync([.. args], i == 1 ? _tmpfs.Combine("store") : null);
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var origin in _origins)
        {
            if (origin is not null)
            {
                await origin.DisposeAsync();
            }
        }

        if (_tmpfs is not null)
        {
            await _tmpfs.DisposeAsync();
        }

        File.Delete(_secretFile);
    }

    private OriginServer Origin(int i) => _origins[i]!;

    [Fact]
    public async Task ReplicaAndManifest_OnAFullMember_Are507_CountedPerPath_SenderKeepsTheMemberUp()
    {
        using var replicaFull = new CounterProbe(Origin(1), "p2pregistry.origin.disk_full", ("path", "cluster_replica"));
        using var manifestFull = new CounterProbe(Origin(1), "p2pregistry.origin.disk_full", ("path", "cluster_manifest"));

        // A replica larger than the whole volume: refused when its file is preallocated, before its body is stored.
        var big = OriginServer.RandomBytes(6 * 1024 * 1024, 1);
        var location = await Origin(0).StartUploadAsync("team/full");
        using (var put = await Origin(0).Client.PutAsync($"{location}?digest={Digest.Compute(big).Value}", OriginServer.Bytes(big)))
        {
            // One of two copies: the push is not confirmed (the repair loop completes it once space is back).
            await OriginServer.AssertErrorAsync(put, HttpStatusCode.ServiceUnavailable, "UNAVAILABLE");
        }

        Assert.Equal(1, replicaFull.Total);
        var members = Origin(0).Services.GetRequiredService<OriginCluster>().Members!;
        Assert.False(members.IsMarkedDown(1), "a member with a full disk was marked down");
        Assert.True(members.IsLive(1));

        // The volume filled by something else: a manifest sent by a member is refused too.
        _tmpfs!.Fill("ballast");
        var small = OriginServer.RandomBytes(100, 2);
        var manifest = OriginServer.ImageManifest(Digest.Compute(small), small.Length, Digest.Compute(small), small.Length);
        using (var request = new HttpRequestMessage(HttpMethod.Put, $"{ClusterEndpoints.ManifestsPath}?repository=team/full&tag=v1") { Content = new ByteArrayContent(manifest) })
        {
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/vnd.oci.image.manifest.v1+json");
            request.Headers.TryAddWithoutValidation(ClusterSecret.HeaderName, Secret);
            using var response = await Origin(1).Client.SendAsync(request);
            await OriginServer.AssertErrorAsync(response, (HttpStatusCode)507, "UNAVAILABLE");
        }

        Assert.Equal(1, manifestFull.Total);
        Assert.Equal(1, replicaFull.Total);
    }
}
