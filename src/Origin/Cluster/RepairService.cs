using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using P2PRegistry.Core.Content;
using P2PRegistry.Origin.Collection;
using P2PRegistry.Origin.Configuration;
using P2PRegistry.Origin.Manifests;
using P2PRegistry.Origin.Storage;

namespace P2PRegistry.Origin.Cluster;

/// <summary>
/// The repair and rebalance loop, one per origin, every <see cref="ClusterOptions.RepairInterval"/>. For each blob held
/// here (manifests excepted: every member keeps those) it asks the blob's ranked members, best first, whether they hold
/// it until R reachable owners are known, then carries out the <see cref="RepairPlanner"/>'s plan: copies to owners
/// that lack it, and this copy removed only when this member is no owner and every owner holds it. Owners are computed
/// over live members, so a lost origin's blobs are copied again to the next member, and after a members change (the
/// members list is read at start: a restart of each origin with the new list) blobs move to their new places.
/// Manifests and tags go to every member that missed one (a failed send, and every member once after start: it may be
/// new, or have been down), after the deletes it may have missed (<see cref="Tombstones"/>); an offered manifest the
/// member refuses as deleted is deleted here. Blobs GC found unreferenced are not repaired (their holders collect them).
/// </summary>
internal sealed class RepairService : BackgroundService
{
    private readonly OriginCluster _cluster;
    private readonly BlobStore _blobs;
    private readonly RepositoryStore _repositories;
    private readonly ClusterOptions _options;
    private readonly long _maxManifestBytes;
    private readonly GarbageCollectorService _collector;
    private readonly TimeProvider _time;
    private readonly ILogger<RepairService> _logger;

    /// <summary>Members that may lack some manifest or tag: all of them at start, and each one a send failed to.</summary>
    private readonly ConcurrentDictionary<int, bool> _manifestBacklog = new();

    public RepairService(OriginCluster cluster, BlobStore blobs, RepositoryStore repositories, GarbageCollectorService collector, IOptions<OriginOptions> options, TimeProvider time, ILogger<RepairService> logger)
    {
        _collector = collector;
        _cluster = cluster;
        _blobs = blobs;
        _repositories = repositories;
        _options = options.Value.Cluster;
        _maxManifestBytes = options.Value.MaxManifestBytes;
        _time = time;
        _logger = logger;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_cluster.Members is not { } members)
        {
            return;
        }

        for (var member = 0; member < members.Count; member++)
        {
            if (member != members.Self)
            {
                _manifestBacklog[member] = true;
            }
        }

        _cluster.ManifestMissed += member => _manifestBacklog[member] = true;
        using var timer = new PeriodicTimer(_options.RepairInterval, _time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                await RunRoundAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                // One bad round (a disk error, a member answering nonsense) must not stop the loop or the origin.
                ClusterLog.RepairFailed(_logger, ex.Message);
            }
        }
    }

    internal async Task RunRoundAsync(CancellationToken cancellationToken)
    {
        var client = _cluster.Client!;
        var members = client.Members;
        _cluster.Tombstones.Expire(_time.GetUtcNow(), _options.TombstoneRetention);
        var manifests = ManifestRevisions();
        var manifestsSent = await SendManifestsAsync(client, manifests, cancellationToken).ConfigureAwait(false);

        var manifestDigests = manifests.Select(m => m.Digest).ToHashSet();
        // Garbage waiting for collection is not repaired: every holder's GC removes it (see GarbageCollectorService.Unreferenced).
        var unreferenced = _collector.Unreferenced;
        int checkedBlobs = 0, copies = 0, dropped = 0, failures = 0;
        foreach (var digest in LocalBlobs())
        {
            if (manifestDigests.Contains(digest) || unreferenced.Contains(digest) || _cluster.IsReplicating(digest) || !_blobs.TryGetLength(digest, out var length))
            {
                continue;
            }

            checkedBlobs++;
            var ranking = members.Rank(digest);
            var holdings = new Holding[members.Count];
            var reachable = 0;
            foreach (var member in ranking)
            {
                if (reachable == members.ReplicationFactor)
                {
                    break;
                }

                holdings[member] = member == members.Self ? Holding.Holds
                    : !members.IsLive(member) ? Holding.Unreachable
                    : await client.HeadBlobAsync(member, digest, cancellationToken).ConfigureAwait(false);
                if (holdings[member] != Holding.Unreachable)
                {
                    reachable++;
                }
            }

            var plan = RepairPlanner.Plan(ranking, holdings, members.Self, members.ReplicationFactor);
            var copied = true;
            foreach (var member in plan.CopyTo)
            {
                var ok = await client.CopyBlobAsync(member, digest, null, _blobs.DataPath(digest), length, cancellationToken).ConfigureAwait(false);
                _cluster.Metrics.Copy("repair", ok, length);
                if (ok)
                {
                    copies++;
                    ClusterLog.BlobCopied(_logger, digest.Value, members.Members[member], length, "repair");
                }
                else
                {
                    copied = false;
                    failures++;
                }
            }

            // A manifest that arrived since the round listed them (its replica is stored like a blob, under a replicating
            // hold until it is linked) is kept by every member: asked again right before the copy goes.
            if (plan.DropLocal && copied && !_cluster.IsReplicating(digest) && !IsManifest(digest))
            {
                _cluster.DropLocal(digest, plan.Owners);
                dropped++;
            }
        }

        if (copies + dropped + manifestsSent + failures > 0)
        {
            ClusterLog.RepairRound(_logger, checkedBlobs, copies, dropped, manifestsSent, failures);
        }
    }

    /// <summary>
    /// To each live member of the backlog: every tombstone (the deletes it may have missed), then every manifest and tag
    /// as an offer. An offer the member refuses as deleted is deleted here too (this member missed that delete). A member
    /// leaves the backlog when all arrived.
    /// </summary>
    private async Task<int> SendManifestsAsync(ClusterClient client, List<ManifestRevision> manifests, CancellationToken cancellationToken)
    {
        var sent = 0;
        foreach (var member in _manifestBacklog.Keys.Order().ToList())
        {
            if (!client.Members.IsLive(member))
            {
                continue;
            }

            var complete = true;
            foreach (var tombstone in _cluster.Tombstones.Snapshot())
            {
                if (!await client.DeleteManifestAsync(member, tombstone.Repository, tombstone.Reference, tombstone.DeletedAt, cancellationToken).ConfigureAwait(false))
                {
                    complete = false;
                    break;
                }

                sent++;
            }

            foreach (var manifest in complete ? manifests : [])
            {
                byte[] body;
                try
                {
                    body = await File.ReadAllBytesAsync(_blobs.DataPath(manifest.Digest), cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
                {
                    continue;
                }

                foreach (var tag in manifest.Tags.Count == 0 ? [null] : manifest.Tags.Cast<string?>())
                {
                    var result = await client.PutManifestAsync(member, manifest.Repository, tag, body, manifest.MediaType, offer: true, cancellationToken).ConfigureAwait(false);
                    if (result == ManifestSend.Failed)
                    {
                        complete = false;
                        break;
                    }

                    sent++;
                    if (result == ManifestSend.ManifestDeleted)
                    {
                        ApplyMissedDelete(manifest.Repository, manifest.Digest.Value, client.Members.Members[member]);
                        break;
                    }

                    if (result == ManifestSend.TagDeleted && tag is not null
                        && _repositories.TryResolveTag(manifest.Repository, tag, out var target) && target == manifest.Digest)
                    {
                        ApplyMissedDelete(manifest.Repository, tag, client.Members.Members[member]);
                    }
                }

                if (!complete)
                {
                    break;
                }
            }

            if (complete)
            {
                _manifestBacklog.TryRemove(member, out _);
            }
        }

        return sent;
    }

    /// <summary>A member refused an offer as deleted: this member missed that DELETE (it was down), so it applies it now.</summary>
    private void ApplyMissedDelete(string repository, string reference, string member)
    {
        if (ManifestDeletion.Delete(_blobs, _repositories, _maxManifestBytes, repository, reference))
        {
            ClusterLog.DeleteApplied(_logger, repository, reference, $"{member} holds its tombstone");
        }

        _cluster.Tombstones.Add(repository, reference, _time.GetUtcNow());
    }

    private sealed record ManifestRevision(string Repository, Digest Digest, string MediaType, List<string> Tags);

    /// <summary>Every repository's manifest revisions with their tags .</summary>
    private List<ManifestRevision> ManifestRevisions()
    {
        var revisions = new List<ManifestRevision>();
        string? after = null;
        while (true)
        {
            var page = _repositories.ListRepositories(after, 1000, _ => true);
            foreach (var repository in page)
            {
                var tags = new Dictionary<Digest, List<string>>();
                foreach (var tag in _repositories.ListTags(repository) ?? [])
                {
                    if (_repositories.TryResolveTag(repository, tag, out var target))
                    {
                        (tags.TryGetValue(target, out var list) ? list : tags[target] = []).Add(tag);
                    }
                }

                var directory = new DirectoryInfo(Path.Combine(_blobs.Layout.Repository(repository), "_manifests", "revisions", Digest.Sha256Algorithm));
                if (!directory.Exists)
                {
                    continue;
                }

                foreach (var entry in directory.EnumerateDirectories())
                {
                    if (Digest.TryParse($"{Digest.Sha256Algorithm}:{entry.Name}", out var digest) && _repositories.TryGetManifest(repository, digest, out var mediaType))
                    {
                        revisions.Add(new ManifestRevision(repository, digest, mediaType, tags.GetValueOrDefault(digest) ?? []));
                    }
                }
            }

            if (page.Count < 1000)
            {
                return revisions;
            }

            after = page[^1];
        }
    }

    /// <summary>Whether some repository links <paramref name="digest"/> as a manifest revision now (one link read per repository).</summary>
    private bool IsManifest(Digest digest)
    {
        string? after = null;
        while (true)
        {
            var page = _repositories.ListRepositories(after, 1000, _ => true);
            if (page.Exists(repository => _repositories.TryGetManifest(repository, digest, out _)))
            {
                return true;
            }

            if (page.Count < 1000)
            {
                return false;
            }

            after = page[^1];
        }
    }

    /// <summary>The digests of the blobs stored here (a folder with a data file), read as the caller enumerates.</summary>
    private IEnumerable<Digest> LocalBlobs()
    {
        var root = new DirectoryInfo(_blobs.Layout.Blobs);
        if (!root.Exists)
        {
            yield break;
        }

        foreach (var prefix in root.EnumerateDirectories())
        {
            foreach (var blob in prefix.EnumerateDirectories())
            {
                if (Digest.TryParse($"{Digest.Sha256Algorithm}:{blob.Name}", out var digest) && File.Exists(Path.Combine(blob.FullName, "data")))
                {
                    yield return digest;
                }
            }
        }
    }
}
