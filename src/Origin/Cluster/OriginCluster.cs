using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using P2PRegistry.Core.Content;
using P2PRegistry.Distribution;
using P2PRegistry.Origin.Authorization;
using P2PRegistry.Origin.P2P;
using P2PRegistry.Origin.Storage;

namespace P2PRegistry.Origin.Cluster;

/// <summary>
/// What the registry handlers ask of the cluster. Disabled (no <c>Origin:Cluster:Members</c>): every call is a no-op
/// and the origin behaves as a single origin.
/// <para>
/// Choices: a blob PUT answers <c>201</c> only once R members hold the blob (this one counts while it keeps its
/// copy); with fewer than R members reachable it answers <c>503 UNAVAILABLE</c> — the blob stays here and the client's
/// retry (or the repair loop) completes it, but a client is never told "stored" about a blob that one disk failure
/// could lose. A member asked for a blob it does not hold streams it from an owner (a proxy, not a redirect: clients
/// may reach only the origin they were given).
/// </para>
/// </summary>
internal sealed class OriginCluster
{
    public const string ProxiedHeader = "X-P2P-Cluster-Proxied";

    private static readonly string[] ForwardedHeaders =
    [
        "Content-Range", "Accept-Ranges", "ETag", "Docker-Content-Digest", "Cache-Control",
        MetaInfoEndpoint.InfoHashHeader, MetaInfoEndpoint.OriginPeerHeader,
    ];

    private readonly BlobStore _blobs;
    private readonly ILogger<OriginCluster> _logger;
    private readonly ConcurrentDictionary<Digest, int> _replicating = new();

    private readonly TimeProvider _time;

    public OriginCluster(BlobStore blobs, ClusterClient? client, ClusterSecret? secret, ClusterMetrics metrics, FailedAttemptLimiter failedAttempts, TimeProvider time, ILogger<OriginCluster> logger)
    {
        FailedAttempts = failedAttempts;
        Metrics = metrics;
        _time = time;
        Tombstones = new Tombstones(client is null ? null : Path.Combine(blobs.Layout.Root, "cluster", "tombstones.json"));
        Secret = secret;
        _blobs = blobs;
        Client = client;
        _logger = logger;
    }

    public bool Enabled => Client is not null;

    public ClusterClient? Client { get; }

    public ClusterMetrics Metrics { get; }

    /// <summary>Failed cluster authentications per client address: past the limit a client gets 429 until its window ends.</summary>
    public FailedAttemptLimiter FailedAttempts { get; }

    /// <summary>Raised with a member's index when a manifest or tag could not be sent to it (the repair loop sends it again).</summary>
    public event Action<int>? ManifestMissed;

    /// <summary>The shared secret members send and check, when configured.</summary>
    public ClusterSecret? Secret { get; }

    public ClusterMembers? Members => Client?.Members;

    /// <summary>The manifests and tags deleted recently (kept only in a cluster).</summary>
    public Tombstones Tombstones { get; }

    /// <summary>A push stored this manifest (and tag): a tombstone of either is void.</summary>
    public void NotePushed(string repository, Digest digest, string? tag)
    {
        if (!Enabled)
        {
            return;
        }

        Tombstones.Clear(repository, digest.Value);
        if (tag is not null)
        {
            Tombstones.Clear(repository, tag);
        }
    }

    /// <summary>
    /// After a DELETE here of a manifest (<paramref name="reference"/> = its digest) or a tag: a tombstone, and the
    /// DELETE sent to every other member; one that is down gets it from the repair loop (the tombstones are replayed to
    /// it, and it is refused the deleted manifest when it offers it back).
    /// </summary>
    public async Task ReplicateDeleteAsync(string repository, string reference, CancellationToken cancellationToken)
    {
        if (Client is not { } client)
        {
            return;
        }

        var at = _time.GetUtcNow();
        Tombstones.Add(repository, reference, at);
        var members = client.Members;
        var sends = new List<Task>();
        for (var member = 0; member < members.Count; member++)
        {
            if (member == members.Self)
            {
                continue;
            }

            var target = member;
            sends.Add(Task.Run(async () =>
            {
                if (!await client.DeleteManifestAsync(target, repository, reference, at, cancellationToken).ConfigureAwait(false))
                {
                    ClusterLog.DeleteNotSent(_logger, repository, reference, members.Members[target]);
                    ManifestMissed?.Invoke(target);
                }
            }, cancellationToken));
        }

        await Task.WhenAll(sends).ConfigureAwait(false);
    }

    /// <summary>
    /// After a blob was stored here: copies it to the first R reachable members of its ranking that lack it (this one
    /// counts as a holder), then removes the local copy if this member is not among them. Throws 503 when fewer than R
    /// members hold it.
    /// </summary>
    public async Task ReplicateBlobAsync(Digest digest, string? repository, CancellationToken cancellationToken)
    {
        if (Client is not { } client || !_blobs.TryGetLength(digest, out var length))
        {
            return;
        }

        // The repair loop leaves a blob alone while a push replicates it (else both would copy it, and a 1 GiB layer twice).
        using (HoldReplicating(digest))
        {
            await ReplicateAsync(client, digest, length, repository, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>A push is replicating this blob now, or a manifest replica with this digest is being stored.</summary>
    public bool IsReplicating(Digest digest) => _replicating.ContainsKey(digest);

    /// <summary>
    /// Marks the digest as being replicated until the returned scope is disposed: the repair loop neither copies nor
    /// drops it meanwhile (a manifest replica is stored like a blob before it is linked as a manifest).
    /// </summary>
    public IDisposable HoldReplicating(Digest digest)
    {
        _replicating.AddOrUpdate(digest, 1, (_, count) => count + 1);
        return new ReplicatingScope(this, digest);
    }

    private void ReleaseReplicating(Digest digest)
    {
        if (_replicating.AddOrUpdate(digest, 0, (_, count) => count - 1) <= 0)
        {
            _replicating.TryRemove(new KeyValuePair<Digest, int>(digest, 0));
        }
    }

    private sealed class ReplicatingScope(OriginCluster owner, Digest digest) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                owner.ReleaseReplicating(digest);
            }
        }
    }

    private async Task ReplicateAsync(ClusterClient client, Digest digest, long length, string? repository, CancellationToken cancellationToken)
    {
        var members = client.Members;
        var ranking = members.Rank(digest);
        var holders = new List<int>(members.ReplicationFactor);
        foreach (var member in ranking)
        {
            if (holders.Count == members.ReplicationFactor)
            {
                break;
            }

            if (member == members.Self)
            {
                holders.Add(member);
                continue;
            }

            if (!members.IsLive(member))
            {
                continue;
            }

            var holding = await client.HeadBlobAsync(member, digest, cancellationToken).ConfigureAwait(false);
            if (holding == Holding.Missing)
            {
                var copied = await client.CopyBlobAsync(member, digest, repository, _blobs.DataPath(digest), length, cancellationToken).ConfigureAwait(false);
                Metrics.Copy("push", copied, length);
                holding = copied ? Holding.Holds : Holding.Unreachable;
                if (holding == Holding.Holds)
                {
                    ClusterLog.BlobCopied(_logger, digest.Value, members.Members[member], length, "push");
                }
            }

            if (holding == Holding.Holds)
            {
                holders.Add(member);
            }
        }

        if (holders.Count < members.ReplicationFactor)
        {
            ClusterLog.TooFewCopies(_logger, digest.Value, holders.Count, members.ReplicationFactor);
            Metrics.TooFewCopies();
            throw new RegistryException(RegistryError.Unavailable,
                $"the blob is stored on {holders.Count} of {members.ReplicationFactor} origins (too few reachable); retry later", digest.Value)
            {
                Headers = [new("Retry-After", "10")],
            };
        }

        if (!holders.Contains(members.Self))
        {
            DropLocal(digest, holders);
        }
    }

    /// <summary>Sends a pushed manifest (and tag) to every other member; one that is down gets it from the repair loop.</summary>
    public async Task ReplicateManifestAsync(string repository, string? tag, Digest digest, ReadOnlyMemory<byte> body, string mediaType, CancellationToken cancellationToken)
    {
        if (Client is not { } client)
        {
            return;
        }

        var members = client.Members;
        var sends = new List<Task>();
        for (var member = 0; member < members.Count; member++)
        {
            if (member == members.Self)
            {
                continue;
            }

            var target = member;
            sends.Add(Task.Run(async () =>
            {
                if (await client.PutManifestAsync(target, repository, tag, body, mediaType, offer: false, cancellationToken).ConfigureAwait(false) != ManifestSend.Stored)
                {
                    ClusterLog.ManifestNotSent(_logger, repository, digest.Value, members.Members[target]);
                    ManifestMissed?.Invoke(target);
                }
            }, cancellationToken));
        }

        await Task.WhenAll(sends).ConfigureAwait(false);
    }

    /// <summary>
    /// The blob is here, or some live member of its ranking holds it (asked best first) and has linked it into
    /// <paramref name="repository"/> under its collector's hold: a HEAD alone would let that member's collector remove a
    /// blob it found old and unreferenced right after answering, before the manifest that names it arrives.
    /// </summary>
    public async Task<bool> ExistsAsync(Digest digest, string repository, CancellationToken cancellationToken)
    {
        if (_blobs.TryGetLength(digest, out _))
        {
            return true;
        }

        if (Client is not { } client)
        {
            return false;
        }

        foreach (var member in client.Members.Rank(digest))
        {
            if (member != client.Members.Self && client.Members.IsLive(member)
                && await client.LinkBlobAsync(member, digest, repository, cancellationToken).ConfigureAwait(false) == Holding.Holds)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Answers a blob GET/HEAD (<paramref name="clusterPath"/> = <see cref="ClusterEndpoints.BlobPath"/>) or a metainfo
    /// GET from the first live member of the blob's ranking that has it, streaming the body through. False when none has it.
    /// </summary>
    public async Task<bool> TryProxyAsync(HttpContext context, Digest digest, string clusterPath, bool head, Action<long>? sent = null)
    {
        if (Client is not { } client)
        {
            return false;
        }

        var range = context.Request.Headers.Range.ToString();
        foreach (var member in client.Members.Rank(digest))
        {
            if (member == client.Members.Self || !client.Members.IsLive(member))
            {
                continue;
            }

            using var upstream = await client.OpenAsync(member, clusterPath, range, head, context.RequestAborted).ConfigureAwait(false);
            if (upstream is null)
            {
                continue;
            }

            var response = context.Response;
            response.StatusCode = (int)upstream.StatusCode;
            response.ContentLength = upstream.Content.Headers.ContentLength;
            if (upstream.Content.Headers.ContentType is { } type)
            {
                response.ContentType = type.ToString();
            }

            foreach (var name in ForwardedHeaders)
            {
                if (upstream.Headers.TryGetValues(name, out var values) || upstream.Content.Headers.TryGetValues(name, out values))
                {
                    response.Headers[name] = values.ToArray();
                }
            }

            response.Headers[ProxiedHeader] = client.Members.Members[member];
            Metrics.Proxied(clusterPath.StartsWith(ClusterEndpoints.Prefix + "/blobs/", StringComparison.Ordinal) ? "blob" : "metainfo");
            if (!head)
            {
                await using var body = await upstream.Content.ReadAsStreamAsync(context.RequestAborted).ConfigureAwait(false);
                var buffer = new byte[64 * 1024];
                int read;
                while ((read = await body.ReadAsync(buffer, context.RequestAborted).ConfigureAwait(false)) > 0)
                {
                    await response.Body.WriteAsync(buffer.AsMemory(0, read), context.RequestAborted).ConfigureAwait(false);
                    sent?.Invoke(read);
                }
            }

            return true;
        }

        return false;
    }

    /// <summary>Removes this member's copy (data and metainfo) once <paramref name="holders"/> hold it; the repository links stay.</summary>
    public void DropLocal(Digest digest, IEnumerable<int> holders)
    {
        var directory = _blobs.Layout.BlobDirectory(digest);
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
            return;
        }

        _blobs.ReportRemoved(digest);
        Metrics.Dropped();
        ClusterLog.BlobDropped(_logger, digest.Value, string.Join(", ", holders.Select(h => Members!.Members[h])));
    }
}
