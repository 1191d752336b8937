using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using P2PRegistry.Core.Placement;
using P2PRegistry.Integration.Tests.Agent;
using P2PRegistry.Integration.Tests.Swarm;
using P2PRegistry.Testing.Waiting;

namespace P2PRegistry.Integration.Tests.Origin;

/// <summary>
/// Origins as a cluster with R = 2 (<c>Origin:Cluster</c>), as real processes with their own storage folders: where
/// skopeo's pushes land on disk, pulls through every member, an origin killed during an agent's pull, a fourth origin
/// joining, and the cluster API's door against callers without the secret.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class OriginClusterTests : IAsyncLifetime
{
    private const string Secret = "integration-cluster-secret-7f3a";
    private readonly ITestOutputHelper _output;
    private readonly TempDirectory _temp = new("origin-cluster");
    private readonly List<(int Port, string Storage)> _members = [];
    private readonly Dictionary<int, OriginProcess> _running = [];
    private string _secretFile = "";

    public OriginClusterTests(ITestOutputHelper output) => _output = output;

    public async Task InitializeAsync()
    {
        _secretFile = _temp.Combine("cluster.secret");
        await File.WriteAllTextAsync(_secretFile, Secret + "\n");
        TestSecrets.Register(Secret, "cluster secret");
        for (var i = 0; i < 4; i++)
        {
            _members.Add((FreePort.Next(), _temp.CreateSubdirectory($"origin-{i}")));
        }
    }

    public async Task DisposeAsync()
    {
        try
        {
            foreach (var origin in _running.Values)
            {
                await origin.DisposeAsync();
            }
        }
        finally
        {
            _temp.Dispose();
        }
    }

    private static string Url(int port) => $"http://127.0.0.1:{port}";

    private string[] MemberUrls(int count) => [.. _members.Take(count).Select(m => Url(m.Port))];

    /// <summary>Starts (or restarts) member <paramref name="i"/> of a cluster of the first <paramref name="count"/> members.</summary>
    private async Task<OriginProcess> StartMemberAsync(int i, int count, params string[] extra)
    {
        if (_running.Remove(i, out var old))
        {
            await old.DisposeAsync();
        }

        var (port, storage) = _members[i];
        var arguments = new List<string>
        {
            $"--Origin:Cluster:Self={Url(port)}",
            $"--Origin:Cluster:SecretFile={_secretFile}",
            // Loopback only: nobody else can watch the secret cross.
            "--Origin:Cluster:AllowInsecureSecret=true",
            "--Origin:Cluster:ReplicationFactor=2",
            "--Origin:Cluster:RepairInterval=00:00:01",
            "--Origin:Cluster:DownTime=00:00:02",
            "--Origin:Cluster:RequestTimeout=00:00:05",
        };
        arguments.AddRange(MemberUrls(count).Select((url, n) => $"--Origin:Cluster:Members:{n}={url}"));
        arguments.AddRange(extra);
        var origin = await OriginProcess.StartAsync(new P2PRegistry.Testing.Registries.OriginOptions
        {
            Port = port,
            StoragePath = storage,
            ExtraArguments = arguments,
            OnOutputLine = line => Log($"[origin-{i}] {line}"),
        });
        _running[i] = origin;
        return origin;
    }

    private void Log(string line)
    {
        try
        {
            _output.WriteLine(line);
        }
        catch (InvalidOperationException)
        {
            // Output after the test ended.
        }
    }

    private string BlobData(int member, string digest)
    {
        var hex = digest["sha256:".Length..];
        return Path.Combine(_members[member].Storage, "blobs", "sha256", hex[..2], hex, "data");
    }

    private int[] Holders(string digest, int count) => [.. Enumerable.Range(0, count).Where(m => File.Exists(BlobData(m, digest)))];

    private int[] Owners(string digest, int count) => [.. new RendezvousRing(MemberUrls(count)).Rank(digest)[..2].Order()];

    /// <summary>Waits (bounded) until every blob is on exactly its two owners' disks.</summary>
    private async Task WaitForPlacementAsync(IEnumerable<string> digests, int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var misplaced = digests.Where(d => !Holders(d, count).SequenceEqual(Owners(d, count))).ToList();
            if (misplaced.Count == 0)
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail("Not placed in time: " + string.Join("; ", misplaced.Select(d => $"{d[..19]} on [{string.Join(",", Holders(d, count))}], owners [{string.Join(",", Owners(d, count))}]")));
            }

            await Task.Delay(200);
        }
    }

    private async Task<DirImageLayout> PullToDirAsync(int member, string repository, string tag, string name)
    {
        var path = _temp.Combine(name);
        await Skopeo.CopyOrThrowAsync(Skopeo.Docker($"127.0.0.1:{_members[member].Port}", repository, tag), Skopeo.Dir(path));
        return DirImageLayout.Open(path);
    }

    [Fact]
    public async Task ThreeOrigins_SkopeoPush_BlobsOnExactlyTwoDisks_ManifestsOnAll_PullsIdenticalThroughEach_AttackerCannotWrite()
    {
        for (var i = 0; i < 3; i++)
        {
            await StartMemberAsync(i, 3);
        }

        var image = (await TestImages.GetAsync()).Big;
        var pushed = await Skopeo.PushAsync(image.Reference, Skopeo.Docker($"127.0.0.1:{_members[0].Port}", "cluster/app", "v1"), new SkopeoCopyOptions { PreserveDigests = true });
        Assert.Equal(image.ManifestDigest, pushed);

        // The 201 of each blob came after its owners held it, and the pushed-to member dropped copies it does not own.
        foreach (var blob in image.BlobDigests)
        {
            Assert.Equal(Owners(blob, 3), Holders(blob, 3));
        }

        Assert.Equal([0, 1, 2], Holders(image.ManifestDigest, 3));

        for (var member = 0; member < 3; member++)
        {
            var dir = await PullToDirAsync(member, "cluster/app", "v1", $"pull-{member}");
            Assert.Equal(image.ManifestDigest, dir.ManifestDigest());
            Assert.Empty(dir.Problems());
            Assert.Equal(image.BlobDigests.Order(), dir.ContentFiles().Keys.Order());
            Assert.Equal(["v1"], await Skopeo.ListTagsAsync($"docker://127.0.0.1:{_members[member].Port}/cluster/app"));
        }

        // The attack: the cluster API without the secret (none, a wrong one) cannot plant a blob or point a tag.
        var planted = RandomNumberGenerator.GetBytes(4096);
        var plantedDigest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(planted));
        var evilManifest = System.Text.Encoding.UTF8.GetBytes(
            $$"""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{{plantedDigest}}","size":4096},"layers":[]}""");
        using var attacker = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        foreach (var secret in new[] { null, "integration-cluster-secret-7f3b", "" })
        {
            for (var member = 0; member < 3; member++)
            {
                var baseUrl = Url(_members[member].Port);
                using var blob = new HttpRequestMessage(HttpMethod.Put, $"{baseUrl}/p2p/v1/cluster/blobs/{plantedDigest}?repository=cluster/app") { Content = new ByteArrayContent(planted) };
                using var tag = new HttpRequestMessage(HttpMethod.Put, $"{baseUrl}/p2p/v1/cluster/manifests?repository=cluster/app&tag=v1") { Content = new ByteArrayContent(evilManifest) };
                tag.Content.Headers.ContentType = new MediaTypeHeaderValue("application/vnd.oci.image.manifest.v1+json");
                foreach (var request in new[] { blob, tag })
                {
                    if (secret is not null)
                    {
                        request.Headers.TryAddWithoutValidation("X-P2P-Cluster-Secret", secret);
                    }

                    using var response = await attacker.SendAsync(request);
                    Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
                }
            }
        }

        Assert.Empty(Holders(plantedDigest, 3));
        for (var member = 0; member < 3; member++)
        {
            using var head = await attacker.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"{Url(_members[member].Port)}/v2/cluster/app/manifests/v1"));
            Assert.Equal(HttpStatusCode.OK, head.StatusCode);
            Assert.Equal(image.ManifestDigest, head.Headers.GetValues("Docker-Content-Digest").Single());
        }
    }

    [Fact]
    public async Task OriginKilledDuringAnAgentsPull_PullCompletes_ThenEveryBlobIsBackToTwoCopiesOnTheLiveOrigins()
    {
        // Seeding throttled so the 96 MiB pull takes seconds: the kill lands in the middle of it.
        for (var i = 0; i < 3; i++)
        {
            await StartMemberAsync(i, 3, "--Swarm:EgressBytesPerSecond=16777216");
        }

        var blob = SwarmBlob.Create(_temp.Combine("big.bin"), 96, seed: 96);
        var small = Enumerable.Range(0, 6).Select(n => SwarmBlob.Create(_temp.Combine($"small-{n}.bin"), 1, seed: 200 + n)).ToList();
        using (var registry = new RegistryClient(new Uri(Url(_members[0].Port))))
        {
            foreach (var b in small.Prepend(blob))
            {
                Assert.Equal(HttpStatusCode.Created, await registry.UploadFileAsync("cluster/big", b.Path, b.Digest.Value));
            }
        }

        var owners = Owners(blob.Digest.Value, 3);
        Assert.Equal(owners, Holders(blob.Digest.Value, 3));
        var survivor = Enumerable.Range(0, 3).Except(owners).Single();
        var victim = owners[0];
        var origins = MemberUrls(3);

        await using var tracker = await TrackerProcess.StartAsync(new Uri(origins[survivor]), Log,
            [.. origins.Select((url, n) => $"--Tracker:OriginUrls:{n}={url}")]);
        await using var agent = await AgentProcess.StartAsync("cluster-agent", tracker.GrpcUrl, new Uri(origins[survivor]), Log,
            [.. origins.Select((url, n) => $"--Agent:OriginUrls:{n}={url}"), "--Agent:MissTimeout=00:00:30"]);
        using var http = new HttpClient { BaseAddress = agent.BaseAddress, Timeout = TimeSpan.FromMinutes(3) };

        var path = $"/v2/cluster/big/blobs/{blob.Digest}";
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1024 * 1024];
        long total = 0;
        var killed = false;
        var attempts = 0;

        // As containerd does: a response cut short is resumed with a Range from the bytes already received.
        while (total < blob.Length && attempts++ < 3)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            if (total > 0)
            {
                request.Headers.Range = new RangeHeaderValue(total, null);
            }

            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(total > 0 ? HttpStatusCode.PartialContent : HttpStatusCode.OK, response.StatusCode);
            await using var body = await response.Content.ReadAsStreamAsync();
            try
            {
                int read;
                while ((read = await body.ReadAsync(buffer)) > 0)
                {
                    sha.AppendData(buffer, 0, read);
                    total += read;
                    if (!killed && total >= 16L * 1024 * 1024)
                    {
                        _running[victim].Kill();
                        killed = true;
                        Log($"[test] killed origin-{victim} after {total} bytes");
                    }
                }
            }
            catch (IOException ex)
            {
                Log($"[test] response cut after {total} bytes ({ex.Message}); resuming");
            }
        }

        Log($"[test] pulled {total} bytes in {attempts} request(s)");
        Assert.True(killed, "the pull ended before the kill");
        Assert.Equal(blob.Length, total);
        Assert.Equal(blob.Digest.Value, "sha256:" + Convert.ToHexStringLower(sha.GetHashAndReset()));

        // Repair: every blob the dead origin held is copied again, so each has 2 copies on the 2 live origins.
        var live = Enumerable.Range(0, 3).Where(m => m != victim).ToArray();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        var digests = small.Prepend(blob).Select(b => b.Digest.Value).ToList();
        while (digests.Any(d => !live.All(m => File.Exists(BlobData(m, d)))))
        {
            Assert.True(DateTime.UtcNow < deadline, "repair did not restore 2 copies in time: " + string.Join("; ", digests.Select(d => $"{d[..19]} on [{string.Join(",", live.Where(m => File.Exists(BlobData(m, d))))}]")));
            await Task.Delay(250);
        }
    }

    [Fact]
    public async Task FourthOriginAdded_PlacementConverges_NoBlobEverWithoutACopy_PullsStillWork()
    {
        for (var i = 0; i < 3; i++)
        {
            await StartMemberAsync(i, 3);
        }

        var image = (await TestImages.GetAsync()).MultiPlatform;
        var pushed = await Skopeo.PushAsync(image.Reference, Skopeo.Docker($"127.0.0.1:{_members[1].Port}", "cluster/multi", "v1"), new SkopeoCopyOptions { All = true, PreserveDigests = true });
        Assert.Equal(image.Digest, pushed);
        var extra = Enumerable.Range(0, 12).Select(n => SwarmBlob.Create(_temp.Combine($"extra-{n}.bin"), 1, seed: 300 + n)).ToList();
        using (var registry = new RegistryClient(new Uri(Url(_members[1].Port))))
        {
            foreach (var b in extra)
            {
                Assert.Equal(HttpStatusCode.Created, await registry.UploadFileAsync("cluster/extra", b.Path, b.Digest.Value));
            }
        }

        var blobs = image.Images.SelectMany(i => i.BlobDigests).Concat(extra.Select(b => b.Digest.Value)).Distinct().ToList();
        foreach (var blob in blobs)
        {
            Assert.Equal(Owners(blob, 3), Holders(blob, 3));
        }

        // The watcher polls the four disks the whole time: a blob seen on no disk is a loss.
        using var stop = new CancellationTokenSource();
        var zeroSightings = new ConcurrentBag<string>();
        var polls = 0;
        var watcher = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                foreach (var blob in blobs)
                {
                    if (Holders(blob, 4).Length == 0)
                    {
                        zeroSightings.Add(blob);
                    }
                }

                Interlocked.Increment(ref polls);
                await Task.Delay(20);
            }
        });

        // The new member starts with the four-member list, then each other member restarts with it.
        await StartMemberAsync(3, 4);
        for (var i = 0; i < 3; i++)
        {
            await StartMemberAsync(i, 4);
        }

        await WaitForPlacementAsync(blobs, 4, TimeSpan.FromSeconds(120));
        await stop.CancelAsync();
        await watcher;

        Assert.True(polls > 10, $"the watcher polled only {polls} times");
        Assert.Empty(zeroSightings);
        Assert.Contains(blobs, b => Owners(b, 4).Contains(3));
        foreach (var blob in blobs)
        {
            Assert.Equal(2, Holders(blob, 4).Length);
        }

        Assert.Equal([0, 1, 2, 3], Holders(image.Digest, 4));
        for (var member = 0; member < 4; member++)
        {
            var path = _temp.Combine($"multi-{member}");
            await Skopeo.CopyOrThrowAsync(Skopeo.Docker($"127.0.0.1:{_members[member].Port}", "cluster/multi", "v1"), Skopeo.Dir(path), new SkopeoCopyOptions { All = true });
            var dir = DirImageLayout.Open(path);
            Assert.Equal(image.Digest, dir.ManifestDigest());
            Assert.Empty(dir.Problems());
        }
    }

    [Fact]
    public async Task ThreeOrigins_GcOn_DeleteThroughOneMember_DeletedBlobsGoneEverywhere_KeptImageOnTwo_KilledMemberGetsTheDeleteAfterRestart()
    {
        string[] gc = ["--Origin:Gc:Interval=00:00:01", "--Origin:Gc:GracePeriod=00:00:08"];
        for (var i = 0; i < 3; i++)
        {
            await StartMemberAsync(i, 3, gc);
        }

        var images = await TestImages.GetAsync();
        var kept = images.MultiPlatform.Images[0];
        var deleted = images.MultiPlatform.Images[1];
        var options = new SkopeoCopyOptions { PreserveDigests = true };
        Assert.Equal(kept.ManifestDigest, await Skopeo.PushAsync(kept.Reference, Skopeo.Docker($"127.0.0.1:{_members[0].Port}", "gc/kept", "v1"), options));
        Assert.Equal(deleted.ManifestDigest, await Skopeo.PushAsync(deleted.Reference, Skopeo.Docker($"127.0.0.1:{_members[1].Port}", "gc/deleted", "v1"), options));
        var unshared = deleted.BlobDigests.Except(kept.BlobDigests).Append(deleted.ManifestDigest).ToList();
        Assert.NotEmpty(deleted.BlobDigests.Except(kept.BlobDigests));

        // Member 2 is down during the DELETE (sent to member 0): it still holds the manifest and must not bring it back.
        await _running[2].DisposeAsync();
        _running.Remove(2);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        using (var delete = await http.DeleteAsync($"{Url(_members[0].Port)}/v2/gc/deleted/manifests/{deleted.ManifestDigest}"))
        {
            Assert.Equal(HttpStatusCode.Accepted, delete.StatusCode);
        }

        Assert.Equal(HttpStatusCode.NotFound, await ManifestStatusAsync(http, 1, "gc/deleted", deleted.ManifestDigest));
        Assert.Equal(HttpStatusCode.NotFound, await ManifestStatusAsync(http, 1, "gc/deleted", "v1"));

        // Member 2's disk still has the revision it missed the DELETE of: only the repair loop can take it away.
        Assert.True(File.Exists(Path.Combine(_members[2].Storage, "repositories", "gc", "deleted", "_manifests", "revisions", "sha256", deleted.ManifestDigest["sha256:".Length..], "link")));
        await StartMemberAsync(2, 3, gc);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (true)
        {
            var statuses = new List<HttpStatusCode>();
            for (var member = 0; member < 3; member++)
            {
                statuses.Add(await ManifestStatusAsync(http, member, "gc/deleted", deleted.ManifestDigest));
                statuses.Add(await ManifestStatusAsync(http, member, "gc/deleted", "v1"));
            }

            var left = unshared.Where(d => Holders(d, 3).Length > 0).ToList();
            if (statuses.All(s => s == HttpStatusCode.NotFound) && left.Count == 0)
            {
                break;
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Delete not complete in time: statuses [{string.Join(",", statuses)}], blobs left {string.Join("; ", left.Select(d => $"{d[..19]} on [{string.Join(",", Holders(d, 3))}]"))}");
            }

            await Task.Delay(500);
        }

        // The kept image: on exactly its two owners (after member 2's return), referenced on every member, identical through each.
        await WaitForPlacementAsync(kept.BlobDigests, 3, TimeSpan.FromSeconds(90));
        for (var member = 0; member < 3; member++)
        {
            var dir = await PullToDirAsync(member, "gc/kept", "v1", $"gc-pull-{member}");
            Assert.Equal(kept.ManifestDigest, dir.ManifestDigest());
            Assert.Empty(dir.Problems());
            Assert.Equal(kept.BlobDigests.Order(), dir.ContentFiles().Keys.Order());
        }

        foreach (var blob in kept.BlobDigests)
        {
            Assert.Equal(Owners(blob, 3), Holders(blob, 3));
        }
    }

    [Fact]
    public async Task ThreeOrigins_ReferrerPushedToOneMember_ListsOnEveryMember_TagDeleteReachesEveryMember()
    {
        for (var i = 0; i < 3; i++)
        {
            await StartMemberAsync(i, 3);
        }

        var image = (await TestImages.GetAsync()).SmallAmd64;
        Assert.Equal(image.ManifestDigest, await Skopeo.PushAsync(image.Reference, Skopeo.Docker($"127.0.0.1:{_members[0].Port}", "refs/app", "v1"), new SkopeoCopyOptions { PreserveDigests = true }));

        // An artifact whose subject is the image (OCI 1.1), pushed to member 1: empty config, one small layer.
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        var layer = RandomNumberGenerator.GetBytes(1024);
        var layerDigest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(layer));
        var config = "{}"u8.ToArray();
        var configDigest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(config));
        foreach (var (digest, bytes) in new[] { (layerDigest, layer), (configDigest, config) })
        {
            using var upload = await http.PostAsync($"{Url(_members[1].Port)}/v2/refs/app/blobs/uploads/?digest={digest}", new ByteArrayContent(bytes));
            Assert.Equal(HttpStatusCode.Created, upload.StatusCode);
        }

        var subject = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"{Url(_members[1].Port)}/v2/refs/app/manifests/v1"));
        var subjectSize = subject.Content.Headers.ContentLength!.Value;
        var artifact = System.Text.Encoding.UTF8.GetBytes(
            $$"""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.example.sbom","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"{{configDigest}}","size":2},"layers":[{"mediaType":"application/octet-stream","digest":"{{layerDigest}}","size":1024}],"subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{{image.ManifestDigest}}","size":{{subjectSize}}""" + "}}");
        var artifactDigest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(artifact));
        using (var content = new ByteArrayContent(artifact))
        {
            content.Headers.ContentType = new MediaTypeHeaderValue("application/vnd.oci.image.manifest.v1+json");
            using var put = await http.PutAsync($"{Url(_members[1].Port)}/v2/refs/app/manifests/{artifactDigest}", content);
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        }

        // A member the PUT could not reach in time (a busy machine) gets it from the repair loop (every second here).
        for (var member = 0; member < 3; member++)
        {
            var m = member;
            Assert.True(await Eventually.HoldsAsync(async () => (await ReferrersAsync(http, m, image.ManifestDigest)).Contains(artifactDigest, StringComparison.Ordinal)),
                $"member {m} does not list the referrer");
            var body = await ReferrersAsync(http, member, image.ManifestDigest);
            Assert.Contains("application/vnd.example.sbom", body, StringComparison.Ordinal);
        }

        // The tag deleted through member 2: gone on every member, the manifest by digest stays.
        using (var delete = await http.DeleteAsync($"{Url(_members[2].Port)}/v2/refs/app/manifests/v1"))
        {
            Assert.Equal(HttpStatusCode.Accepted, delete.StatusCode);
        }

        for (var member = 0; member < 3; member++)
        {
            var m = member;
            Assert.True(await Eventually.HoldsAsync(async () => await ManifestStatusAsync(http, m, "refs/app", "v1") == HttpStatusCode.NotFound),
                $"the deleted tag is still on member {m}");
            Assert.True(await Eventually.HoldsAsync(async () => await ManifestStatusAsync(http, m, "refs/app", image.ManifestDigest) == HttpStatusCode.OK),
                $"the manifest is not on member {m}");
        }

        // The artifact deleted through member 0: off every member's referrers list.
        using (var delete = await http.DeleteAsync($"{Url(_members[0].Port)}/v2/refs/app/manifests/{artifactDigest}"))
        {
            Assert.Equal(HttpStatusCode.Accepted, delete.StatusCode);
        }

        for (var member = 0; member < 3; member++)
        {
            var m = member;
            Assert.True(await Eventually.HoldsAsync(async () => !(await ReferrersAsync(http, m, image.ManifestDigest)).Contains(artifactDigest, StringComparison.Ordinal)),
                $"member {m} still lists the deleted referrer");
        }
    }

    private Task<string> ReferrersAsync(HttpClient http, int member, string subject) =>
        http.GetStringAsync($"{Url(_members[member].Port)}/v2/refs/app/referrers/{subject}");

    private async Task<HttpStatusCode> ManifestStatusAsync(HttpClient http, int member, string repository, string reference)
    {
        using var request = new HttpRequestMessage(HttpMethod.Head, $"{Url(_members[member].Port)}/v2/{repository}/manifests/{reference}");
        request.Headers.Accept.ParseAdd("application/vnd.oci.image.manifest.v1+json");
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }
}
