using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using P2PRegistry.Core.Content;
using P2PRegistry.Origin.Cluster;
using P2PRegistry.Testing.Networking;

namespace P2PRegistry.Origin.Tests.Cluster;

/// <summary>Three in-process origins on fixed loopback ports with R = 2: where pushes land, proxying, the cluster API's door.</summary>
public sealed class ClusterReplicationTests : IAsyncLifetime
{
    private const string Secret = "cluster-secret-for-tests-0123";
    private readonly string _secretFile = Path.Combine(Path.GetTempPath(), $"p2preg-cluster-{Guid.NewGuid():N}");
    private readonly string[] _urls = [.. Enumerable.Range(0, 3).Select(_ => $"http://127.0.0.1:{FreePort.Next()}")];
    private readonly OriginServer?[] _origins = new OriginServer?[3];
    private ClusterMembers _placement = null!;

    public async Task InitializeAsync()
    {
        await File.WriteAllTextAsync(_secretFile, Secret + "\n");
        _placement = new ClusterMembers(_urls, _urls[0], 2, new FakeTimeProvider(), TimeSpan.Zero);
        for (var i = 0; i < _origins.Length; i++)
        {
            _origins[i] = await StartMemberAsync(i);
        }
    }

    private Task<OriginServer> StartMemberAsync(int i, string? storagePath = null)
    {
        var args = new List<string> { "--urls", _urls[i], $"--Origin:Cluster:Self={_urls[i]}", $"--Origin:Cluster:SecretFile={_secretFile}", "--Origin:Cluster:AllowInsecureSecret=true",
            "--Origin:Cluster:RequestTimeout=00:00:05", "--Origin:Cluster:DownTime=00:00:00", "--Origin:Cluster:RepairInterval=01:00:00" };
        args.AddRange(_urls.Select((url, n) => $"--Origin:Cluster:Members:{n}={url}"));
        return OriginServer.StartAsync([.. args], storagePath);
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

        File.Delete(_secretFile);
    }

    private OriginServer Origin(int i) => _origins[i]!;

    private int[] Holders(Digest digest) => [.. Enumerable.Range(0, 3).Where(i => File.Exists(Origin(i).BlobDataPath(digest)))];

    private int[] Owners(Digest digest) => [.. _placement.Owners(digest).Order()];

    [Fact]
    public async Task PushBlobs_ToOneMember_EachIsOnExactlyItsTwoOwnersWhenThe201Arrives()
    {
        using var copies = new CounterProbe(Origin(0), "p2pregistry.origin.cluster.copies");
        using var dropped = new CounterProbe(Origin(0), "p2pregistry.origin.cluster.local_copies_removed");
        var expectedCopies = 0;
        var expectedDrops = 0;
        for (var seed = 0; seed < 8; seed++)
        {
            var digest = await Origin(0).PushBlobAsync("team/app", OriginServer.RandomBytes(5000 + seed, seed));
            Assert.Equal(Owners(digest), Holders(digest));
            var selfOwns = Owners(digest).Contains(0);
            expectedCopies += selfOwns ? 1 : 2;
            expectedDrops += selfOwns ? 0 : 1;
        }

        Assert.Equal(expectedCopies, copies.Total);
        Assert.Equal(expectedDrops, dropped.Total);
    }

    [Fact]
    public async Task PushImage_ToOneMember_ManifestAndTagOnEveryMember_BlobsServedByEveryMember()
    {
        var config = OriginServer.RandomBytes(100, 1);
        var layer = OriginServer.RandomBytes(300_000, 2);
        var configDigest = await Origin(1).PushBlobAsync("team/app", config);
        var layerDigest = await Origin(1).PushBlobAsync("team/app", layer);
        var (manifestDigest, body) = await Origin(1).PushManifestAsync("team/app", "v1", OriginServer.ImageManifest(configDigest, config.Length, layerDigest, layer.Length));

        for (var i = 0; i < 3; i++)
        {
            var client = Origin(i).Client;
            Assert.True(File.Exists(Origin(i).BlobDataPath(manifestDigest)), $"member {i} lacks the manifest");
            using var manifest = await client.GetAsync("/v2/team/app/manifests/v1");
            Assert.Equal(HttpStatusCode.OK, manifest.StatusCode);
            Assert.Equal(body, await manifest.Content.ReadAsByteArrayAsync());
            Assert.Equal("application/vnd.oci.image.manifest.v1+json", manifest.Content.Headers.ContentType?.MediaType);
            Assert.Equal(layer, await client.GetByteArrayAsync($"/v2/team/app/blobs/{layerDigest.Value}"));
            Assert.Equal(config, await client.GetByteArrayAsync($"/v2/team/app/blobs/{configDigest.Value}"));

            using var ranged = new HttpRequestMessage(HttpMethod.Get, $"/v2/team/app/blobs/{layerDigest.Value}");
            ranged.Headers.Range = new RangeHeaderValue(1000, 1999);
            using var part = await client.SendAsync(ranged);
            Assert.Equal(HttpStatusCode.PartialContent, part.StatusCode);
            Assert.Equal(layer.AsSpan(1000, 1000).ToArray(), await part.Content.ReadAsByteArrayAsync());

            using var head = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/v2/team/app/blobs/{layerDigest.Value}"));
            Assert.Equal(HttpStatusCode.OK, head.StatusCode);
            Assert.Equal(layer.Length, head.Content.Headers.ContentLength);

            using var metaInfo = await client.GetAsync($"/p2p/v1/metainfo/{layerDigest.Value}");
            Assert.Equal(HttpStatusCode.OK, metaInfo.StatusCode);
            Assert.True(metaInfo.Headers.Contains("X-P2P-Info-Hash"));
        }

        Assert.Equal(Owners(layerDigest), Holders(layerDigest));
        Assert.Equal([0, 1, 2], Holders(manifestDigest));
    }

    [Fact]
    public async Task ManifestPushedToAMember_ReferencingBlobsItDoesNotHold_IsAccepted()
    {
        // Push the blobs to one member, the manifest to another: the blobs' presence is checked cluster-wide.
        var config = OriginServer.RandomBytes(120, 5);
        var layer = OriginServer.RandomBytes(2000, 6);
        var configDigest = await Origin(0).PushBlobAsync("team/split", config);
        var layerDigest = await Origin(0).PushBlobAsync("team/split", layer);
        var (_, _) = await Origin(0).PushManifestAsync("team/split", "v1", OriginServer.ImageManifest(configDigest, config.Length, layerDigest, layer.Length));
        var second = OriginServer.ImageManifest(layerDigest, layer.Length, configDigest, config.Length);
        var (digest, _) = await Origin(2).PushManifestAsync("team/split", "v2", second);
        using var tag = await Origin(1).Client.GetAsync("/v2/team/split/manifests/v2");
        Assert.Equal(HttpStatusCode.OK, tag.StatusCode);
        Assert.Equal(digest.Value, tag.Headers.GetValues("Docker-Content-Digest").Single());
    }

    [Fact]
    public async Task OwnerDown_PushStillEndsWithTwoCopies_TooFewMembers_503WithOciError()
    {
        await Origin(2).StopAsync();
        var stopped = _origins[2]!;
        _origins[2] = null;
        try
        {
            for (var seed = 20; seed < 26; seed++)
            {
                var content = OriginServer.RandomBytes(4000, seed);
                var digest = await Origin(0).PushBlobAsync("team/app", content);
                Assert.Equal([0, 1], Enumerable.Range(0, 2).Where(i => File.Exists(Origin(i).BlobDataPath(digest))));
            }

            await Origin(1).StopAsync();
            var alone = _origins[1]!;
            _origins[1] = null;
            try
            {
                var lonely = OriginServer.RandomBytes(4000, 99);
                var digest = Digest.Compute(lonely);
                var location = await Origin(0).StartUploadAsync("team/app");
                using var put = await Origin(0).Client.PutAsync($"{location}?digest={digest.Value}", new ByteArrayContent(lonely));
                Assert.Equal(HttpStatusCode.ServiceUnavailable, put.StatusCode);
                using var error = JsonDocument.Parse(await put.Content.ReadAsStringAsync());
                Assert.Equal("UNAVAILABLE", error.RootElement.GetProperty("errors")[0].GetProperty("code").GetString());
                // Never lost: the member that received it keeps it.
                Assert.True(File.Exists(Origin(0).BlobDataPath(digest)));
            }
            finally
            {
                await alone.DisposeAsync();
            }
        }
        finally
        {
            await stopped.DisposeAsync();
        }
    }

    public static TheoryData<string?> WrongSecrets() => new() { null, "", "cluster-secret-for-tests-0124", Secret + "x" };

    [Theory]
    [MemberData(nameof(WrongSecrets))]
    public async Task ClusterApi_WithoutTheSecret_CannotPlantABlobOrATag(string? secret)
    {
        var planted = OriginServer.RandomBytes(3000, 77);
        var digest = Digest.Compute(planted);
        using var blob = new HttpRequestMessage(HttpMethod.Put, $"/p2p/v1/cluster/blobs/{digest.Value}?repository=team/app") { Content = new ByteArrayContent(planted) };
        using var manifest = new HttpRequestMessage(HttpMethod.Put, "/p2p/v1/cluster/manifests?repository=team/app&tag=latest")
        {
            Content = new ByteArrayContent(OriginServer.ImageManifest(digest, planted.Length, digest, planted.Length)),
        };
        manifest.Content.Headers.ContentType = new MediaTypeHeaderValue("application/vnd.oci.image.manifest.v1+json");
        using var read = new HttpRequestMessage(HttpMethod.Get, $"/p2p/v1/cluster/blobs/{digest.Value}");
        using var refused = new CounterProbe(Origin(0), "p2pregistry.origin.cluster.refused");
        foreach (var request in new[] { blob, manifest, read })
        {
            if (secret is not null)
            {
                request.Headers.TryAddWithoutValidation(ClusterSecret.HeaderName, secret);
            }

            using var response = await Origin(0).Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        Assert.Equal(3, refused.Total);
        Assert.Empty(Holders(digest));
        using var tag = await Origin(0).Client.GetAsync("/v2/team/app/manifests/latest");
        Assert.Equal(HttpStatusCode.NotFound, tag.StatusCode);
    }

    [Fact]
    public async Task ClusterApi_WithTheSecret_ReplicaThatDoesNotHashToItsDigest_IsRefused()
    {
        var content = OriginServer.RandomBytes(3000, 78);
        var claimed = Digest.Compute(OriginServer.RandomBytes(3000, 79));
        using var request = new HttpRequestMessage(HttpMethod.Put, $"/p2p/v1/cluster/blobs/{claimed.Value}") { Content = new ByteArrayContent(content) };
        request.Headers.TryAddWithoutValidation(ClusterSecret.HeaderName, Secret);
        using var response = await Origin(0).Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.False(File.Exists(Origin(0).BlobDataPath(claimed)));
    }

    [Fact]
    public async Task RepairRound_AfterAMemberMissedPushes_RestoresOwnersAndDropsStandIns()
    {
        await Origin(2).StopAsync();
        var storage = Origin(2).StoragePath;
        var digests = new List<Digest>();
        for (var seed = 40; seed < 48; seed++)
        {
            digests.Add(await Origin(0).PushBlobAsync("team/repair", OriginServer.RandomBytes(4000, seed)));
        }

        var (manifest, _) = await Origin(0).PushImageAsync("team/repair", "v1", seed: 50);
        _origins[2] = await StartMemberAsync(2, storage);
        try
        {
            for (var i = 0; i < 3; i++)
            {
                await Origin(i).Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<RepairService>().Single().RunRoundAsync(CancellationToken.None);
            }

            foreach (var digest in digests)
            {
                Assert.Equal(Owners(digest), Holders(digest));
            }

            using var tag = await Origin(2).Client.GetAsync("/v2/team/repair/manifests/v1");
            Assert.Equal(HttpStatusCode.OK, tag.StatusCode);
            Assert.Equal(manifest.Value, tag.Headers.GetValues("Docker-Content-Digest").Single());
        }
        finally
        {
            // The restarted member reuses the stopped member's storage, which this test owns now.
            await Origin(2).DisposeAsync();
            _origins[2] = null;
            Directory.Delete(storage, recursive: true);
        }
    }

    [Fact]
    public async Task RepairRound_DigestUnderAReplicatingHold_NeitherCopiedNorDropped_UntilTheHoldEnds()
    {
        // A manifest replica is stored like a blob before it is linked as a manifest; a repair round in between must not
        // take it for a stand-in and drop it. Stand-ins made by pushes while member 2 was down show the rule.
        await Origin(2).StopAsync();
        var storage = Origin(2).StoragePath;
        var digests = new List<Digest>();
        for (var seed = 60; seed < 68; seed++)
        {
            digests.Add(await Origin(0).PushBlobAsync("team/hold", OriginServer.RandomBytes(4000, seed)));
        }

        _origins[2] = await StartMemberAsync(2, storage);
        try
        {
            var before = digests.ToDictionary(d => d, Holders);
            var holds = Enumerable.Range(0, 3)
                .SelectMany(i => digests.Select(d => Origin(i).Services.GetRequiredService<OriginCluster>().HoldReplicating(d)))
                .ToList();
            await RunRepairRoundsAsync();
            Assert.All(digests, d => Assert.Equal(before[d], Holders(d)));
            Assert.Contains(digests, d => !Owners(d).SequenceEqual(Holders(d))); // there were stand-ins to keep

            holds.ForEach(h => h.Dispose());
            await RunRepairRoundsAsync();
            Assert.All(digests, d => Assert.Equal(Owners(d), Holders(d)));
        }
        finally
        {
            await Origin(2).DisposeAsync();
            _origins[2] = null;
            Directory.Delete(storage, recursive: true);
        }

        async Task RunRepairRoundsAsync()
        {
            for (var i = 0; i < 3; i++)
            {
                await Origin(i).Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<RepairService>().Single().RunRoundAsync(CancellationToken.None);
            }
        }
    }

    [Fact]
    public async Task ClusterApi_WrongSecretPastTheLimit_Is429ForThatClient_EvenWithTheRightSecret()
    {
        using var refused = new CounterProbe(Origin(0), "p2pregistry.origin.cluster.refused");
        HttpRequestMessage Read(string secret)
        {
            var request = new HttpRequestMessage(HttpMethod.Head, $"/p2p/v1/cluster/blobs/{Digest.Compute("x"u8).Value}");
            request.Headers.TryAddWithoutValidation(ClusterSecret.HeaderName, secret);
            return request;
        }

        // Origin:Cluster:MaxFailedAttempts defaults to 10 per minute.
        for (var i = 0; i < 10; i++)
        {
            using var guess = Read($"guess-{i:D4}-0123456789abcdef");
            using var response = await Origin(0).Client.SendAsync(guess);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        using var right = Read(Secret);
        using var blocked = await Origin(0).Client.SendAsync(right);
        Assert.Equal(HttpStatusCode.TooManyRequests, blocked.StatusCode);
        Assert.True(blocked.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        Assert.Equal(11, refused.Total);

        // Another member (another client of member 1) is not affected.
        using var other = new HttpRequestMessage(HttpMethod.Head, $"/p2p/v1/cluster/blobs/{Digest.Compute("x"u8).Value}");
        other.Headers.TryAddWithoutValidation(ClusterSecret.HeaderName, Secret);
        using var fine = await Origin(1).Client.SendAsync(other);
        Assert.Equal(HttpStatusCode.NotFound, fine.StatusCode);
    }

    [Fact]
    public async Task BlobRemovedBetweenCheckAndOpen_RegistryGetIsProxiedToTheOtherOwner_ClusterGetIs404_NoMemberMarkedDown()
    {
        var content = OriginServer.RandomBytes(7000, 90);
        var digest = Digest.Compute(content);
        var first = _placement.Rank(digest)[0];
        var second = _placement.Rank(digest)[1];
        var other = _placement.Rank(digest)[2];
        Assert.Equal(digest, await Origin(other).PushBlobAsync("team/race", content));

        // A dangling symlink in place of the data file: the existence check (FileInfo) sees a file, the open that follows
        // finds none — exactly what a delete between the two (the collector, a dropped local copy) leaves.
        var data = Origin(first).BlobDataPath(digest);
        File.Delete(data);
        File.CreateSymbolicLink(data, data + ".gone");

        using (var direct = await Origin(first).Client.GetAsync($"/v2/team/race/blobs/{digest.Value}"))
        {
            Assert.Equal(HttpStatusCode.OK, direct.StatusCode);
            Assert.Equal(content, await direct.Content.ReadAsByteArrayAsync());
            Assert.Equal(_urls[second], direct.Headers.GetValues(OriginCluster.ProxiedHeader).Single());
        }

        using (var cluster = new HttpRequestMessage(HttpMethod.Get, ClusterEndpoints.BlobPath(digest)))
        {
            cluster.Headers.TryAddWithoutValidation(ClusterSecret.HeaderName, Secret);
            using var response = await Origin(first).Client.SendAsync(cluster);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal(["BLOB_UNKNOWN"], await OriginServer.ErrorCodesAsync(response));
        }

        // The member without the blob asks the first owner first: a miss there, the bytes from the second, nobody down.
        Assert.Equal(content, await Origin(other).Client.GetByteArrayAsync($"/v2/team/race/blobs/{digest.Value}"));
        var members = Origin(other).Services.GetRequiredService<OriginCluster>().Members!;
        Assert.False(members.IsMarkedDown(first), "the member that lost the race was marked down");
    }
}
