using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Win32.SafeHandles;
using P2PRegistry.Core.Content;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Distribution;
using P2PRegistry.Hosting.Security;
using P2PRegistry.Hosting.Storage;
using P2PRegistry.Origin.Collection;
using P2PRegistry.Origin.Configuration;
using P2PRegistry.Origin.Manifests;
using P2PRegistry.Origin.P2P;
using P2PRegistry.Origin.Registry;
using P2PRegistry.Origin.Seeding;
using P2PRegistry.Origin.Storage;
using P2PRegistry.Swarm.Pieces;

namespace P2PRegistry.Origin.Cluster;

/// <summary>
/// The origin-to-origin API under <c>/p2p/v1/cluster/</c>, for members only: a request must carry the cluster secret
/// (<see cref="ClusterSecret.HeaderName"/>) or come over TLS with a verified client certificate of the origin role
/// (<see cref="ClusterRoles"/>); anything else is refused 401 before its body is read.
/// <code>
/// HEAD|GET /p2p/v1/cluster/blobs/&lt;digest&gt;                 a blob held here (Range honoured); never proxied further
/// PUT      /p2p/v1/cluster/blobs/&lt;digest&gt;?repository=name  a replica: streamed, verified, stored like a pushed blob
/// PUT      /p2p/v1/cluster/manifests?repository=name[&amp;tag=t][&amp;offer=1]  a manifest (Content-Type = media type) and its
///          tag; an offer (the repair loop's) of a deleted one is refused 410 with X-P2P-Cluster-Deleted: manifest|tag
/// DELETE   /p2p/v1/cluster/manifests?repository=name&amp;reference=digest|tag&amp;deletedAt=unix-ms   a replicated DELETE
/// PUT      /p2p/v1/cluster/links/&lt;digest&gt;?repository=name  keep a blob held here: linked into the repository (201), else 404
/// GET      /p2p/v1/cluster/metainfo/&lt;digest&gt;              the metainfo of a blob held here
/// </code>
/// </summary>
internal static class ClusterEndpoints
{
    public const string Prefix = "/p2p/v1/cluster";
    public const string ManifestsPath = Prefix + "/manifests";
    public const string FullDiskReplica = "cluster_replica";
    public const string FullDiskManifest = "cluster_manifest";

    /// <summary>On a 410 to a manifest offer: which part the cluster deleted (<c>manifest</c> or <c>tag</c>).</summary>
    public const string DeletedHeader = "X-P2P-Cluster-Deleted";

    public static string BlobPath(Digest digest) => $"{Prefix}/blobs/{digest.Value}";

    public static string MetaInfoPath(Digest digest) => $"{Prefix}/metainfo/{digest.Value}";

    public static string LinkPath(Digest digest, string repository) => $"{Prefix}/links/{digest.Value}?repository={Uri.EscapeDataString(repository)}";

    public static void Map(WebApplication app)
    {
        app.MapMethods(Prefix + "/blobs/{digest}", [HttpMethods.Get, HttpMethods.Head], context => Guarded(context, GetBlobAsync));
        app.MapPut(Prefix + "/blobs/{digest}", context => Guarded(context, PutBlobAsync));
        app.MapPut(ManifestsPath, context => Guarded(context, PutManifestAsync));
        app.MapDelete(ManifestsPath, context => Guarded(context, DeleteManifestAsync));
        app.MapPut(Prefix + "/links/{digest}", context => Guarded(context, PutLinkAsync));
        app.MapGet(Prefix + "/metainfo/{digest}", context => Guarded(context, c => MetaInfoEndpoint.HandleAsync(
            c,
            c.Request.RouteValues["digest"] as string ?? "",
            c.RequestServices.GetRequiredService<BlobStore>(),
            c.RequestServices.GetRequiredService<PeerListener>(),
            c.RequestServices.GetRequiredService<SeedIndex>())));
    }

    /// <summary>The secret (constant-time) or an origin-role certificate; the TLS handshake verified the certificate's chain.</summary>
    internal static bool IsMember(HttpContext context, ClusterSecret? secret)
    {
        if (secret is not null && secret.Matches(context.Request.Headers[ClusterSecret.HeaderName].ToString()))
        {
            return true;
        }

        return context.Request.IsHttps && ClusterRoles.Of(context.Connection.ClientCertificate) == ClusterRole.Origin;
    }

    private static async Task Guarded(HttpContext context, Func<HttpContext, Task> handler)
    {
        var services = context.RequestServices;
        var cluster = services.GetRequiredService<OriginCluster>();
        if (!cluster.Enabled)
        {
            await RegistryErrors.WriteAsync(context, RegistryError.NameUnknown, "this origin is not part of a cluster", null, []).ConfigureAwait(false);
            return;
        }

        // A client past its failed attempts is refused before its secret is compared (guessing costs it a window).
        var client = context.Connection.RemoteIpAddress;
        if (cluster.FailedAttempts.IsBlocked(client, out var retryAfter))
        {
            cluster.Metrics.Refused("rate_limited");
            await RegistryErrors.WriteAsync(context, RegistryError.TooManyRequests, "too many failed cluster authentication attempts", null,
                [new("Retry-After", Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture))]).ConfigureAwait(false);
            return;
        }

        // Over https the client certificate may arrive after the request (renegotiation is not used: Kestrel asks during the handshake).
        if (!IsMember(context, cluster.Secret))
        {
            cluster.FailedAttempts.RecordFailure(client);
            cluster.Metrics.Refused("unauthenticated");
            ClusterLog.Refused(services.GetRequiredService<ILogger<OriginCluster>>(), context.Request.Method, context.Request.Path.Value ?? "", client?.ToString() ?? "unknown");
            await RegistryErrors.WriteAsync(context, RegistryError.Unauthorized, "cluster members only", null, []).ConfigureAwait(false);
            return;
        }

        try
        {
            await handler(context).ConfigureAwait(false);
        }
        catch (RegistryException ex) when (!context.Response.HasStarted)
        {
            await RegistryErrors.WriteAsync(context, ex.Error, ex.Message, ex.Detail, ex.Headers).ConfigureAwait(false);
        }
        catch (IOException ex) when (!context.Response.HasStarted && services.GetRequiredService<DiskFullReporter>().IsFull(ex))
        {
            // The writer deleted its temp file; the sending member counts the copy as missing here, not this member as down.
            var path = context.Request.Path.StartsWithSegments(Prefix + "/blobs", StringComparison.Ordinal) ? FullDiskReplica : FullDiskManifest;
            services.GetRequiredService<DiskFullReporter>().Report(path, ex);
            await RegistryErrors.WriteAsync(context, RegistryError.InsufficientStorage, "insufficient storage: this member's disk is full", null, [new("Retry-After", "60")]).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException && context.RequestAborted.IsCancellationRequested)
        {
            // The member went away; nobody to answer.
        }
    }

    private static Digest RouteDigest(HttpContext context) =>
        Digest.TryParse(context.Request.RouteValues["digest"] as string ?? "", out var digest)
            ? digest
            : throw new RegistryException(RegistryError.DigestInvalid, "invalid digest");

    private static async Task GetBlobAsync(HttpContext context)
    {
        var digest = RouteDigest(context);
        var blobs = context.RequestServices.GetRequiredService<BlobStore>();
        if (!blobs.TryGetLength(digest, out var length))
        {
            throw new RegistryException(RegistryError.BlobUnknown, "blob not held by this member", digest.Value);
        }

        context.Response.Headers.CacheControl = "max-age=31536000";
        var (offset, count) = RegistryResponses.WriteBlobHeaders(context, digest, length);
        if (HttpMethods.IsHead(context.Request.Method) || count <= 0)
        {
            return;
        }

        try
        {
            await BlobSender.SendAsync(context, blobs.DataPath(digest), offset, count).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException && !context.Response.HasStarted)
        {
            // Removed since the check (the collector, or this member dropping a copy its owners hold): not held, which
            // the asking member takes as a miss, not as this member failing.
            throw new RegistryException(RegistryError.BlobUnknown, "blob not held by this member", digest.Value);
        }
    }

    /// <summary>A replica: the body must be exactly Content-Length bytes hashing to the digest, else nothing is stored.</summary>
    private static async Task PutBlobAsync(HttpContext context)
    {
        var services = context.RequestServices;
        var digest = RouteDigest(context);
        var blobs = services.GetRequiredService<BlobStore>();
        var repositories = services.GetRequiredService<RepositoryStore>();
        var gc = services.GetRequiredService<CollectionGate>();
        var options = services.GetRequiredService<IOptions<OriginOptions>>().Value;
        var repository = context.Request.Query["repository"].ToString();
        if (repository.Length > 0 && !RepositoryName.IsValid(repository))
        {
            throw new RegistryException(RegistryError.NameInvalid, "invalid repository name");
        }

        if (context.Request.ContentLength is not { } length || length < 0)
        {
            throw new RegistryException(RegistryError.SizeInvalid, "Content-Length is required");
        }

        if (length > options.MaxUploadBytes)
        {
            throw new RegistryException(RegistryError.TooLarge, $"blob exceeds Origin:MaxUploadBytes ({options.MaxUploadBytes})");
        }

        // Held from before the existence check until the link is written: a pass of this member's collector that found
        // the blob old and unreferenced cannot remove it in between (see Collection/CollectionGate).
        using var pin = gc.Hold(digest);
        if (!blobs.TryGetLength(digest, out _))
        {
            await ReceiveAsync(context, blobs, digest, length).ConfigureAwait(false);
            ClusterLog.ReplicaReceived(services.GetRequiredService<ILogger<OriginCluster>>(), digest.Value, length);
        }

        if (repository.Length > 0)
        {
            await repositories.LinkBlobAsync(repository, digest, CancellationToken.None).ConfigureAwait(false);
        }

        context.Response.StatusCode = StatusCodes.Status201Created;
        context.Response.ContentLength = 0;
    }

    private static async Task ReceiveAsync(HttpContext context, BlobStore blobs, Digest digest, long length)
    {
        var sizeFeature = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (sizeFeature is { IsReadOnly: false })
        {
            sizeFeature.MaxRequestBodySize = null;
        }

        Directory.CreateDirectory(blobs.Layout.Uploads);
        var temp = Path.Combine(blobs.Layout.Uploads, $"{Guid.NewGuid():N}.replica.tmp");
        try
        {
            var pieceLength = PieceLength.For(length);
            using var pieces = new PieceHasher(pieceLength);
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long received = 0;
            SafeFileHandle handle;
            try
            {
                handle = File.OpenHandle(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, FileOptions.Asynchronous, length);
            }
            catch (IOException ex) when (length > 0 && DiskFull.Is(ex, blobs.Layout.Uploads, length))
            {
                // A failed preallocation carries no errno: refused before a byte of the body is read.
                throw DiskFull.NoSpace($"No space left for the {length} bytes of a replica.", ex);
            }

            using (handle)
            {
                var buffer = new byte[256 * 1024];
                var body = context.Request.Body;
                int read;
                while ((read = await body.ReadAsync(buffer, context.RequestAborted).ConfigureAwait(false)) > 0)
                {
                    // Checked before the bytes are written: a body longer than it said is refused.
                    if (read > length - received)
                    {
                        throw new RegistryException(RegistryError.SizeInvalid, "body longer than Content-Length");
                    }

                    await RandomAccess.WriteAsync(handle, buffer.AsMemory(0, read), received, context.RequestAborted).ConfigureAwait(false);
                    sha.AppendData(buffer, 0, read);
                    pieces.Append(buffer.AsSpan(0, read));
                    received += read;
                }

                if (received != length)
                {
                    throw new RegistryException(RegistryError.SizeInvalid, $"body has {received} of {length} bytes");
                }

                RandomAccess.FlushToDisk(handle);
            }

            var actual = Digest.FromSha256(sha.GetHashAndReset());
            if (actual != digest)
            {
                throw new RegistryException(RegistryError.DigestInvalid, "replica does not hash to its digest", $"content is {actual.Value}");
            }

            await blobs.CommitAsync(temp, digest, MetaInfo.Create(digest, length, pieceLength, pieces.Complete()), CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            DurableFiles.TryDelete(temp);
        }
    }

    /// <summary>A manifest pushed to another member: stored byte-exact, its blobs linked into the repository, its tag set.</summary>
    private static async Task PutManifestAsync(HttpContext context)
    {
        var services = context.RequestServices;
        var blobs = services.GetRequiredService<BlobStore>();
        var repositories = services.GetRequiredService<RepositoryStore>();
        var options = services.GetRequiredService<IOptions<OriginOptions>>().Value;
        var repository = context.Request.Query["repository"].ToString();
        var tag = context.Request.Query["tag"].ToString();
        if (!RepositoryName.IsValid(repository))
        {
            throw new RegistryException(RegistryError.NameInvalid, "invalid repository name");
        }

        if (tag.Length > 0 && !RepositoryName.IsValidTag(tag))
        {
            throw new RegistryException(RegistryError.TagInvalid, "invalid tag");
        }

        var mediaType = context.Request.ContentType?.Split(';')[0].Trim() ?? "";
        if (!RegistryHandler.IsValidMediaType(mediaType))
        {
            throw new RegistryException(RegistryError.ManifestInvalid, "invalid manifest media type");
        }

        if (context.Request.ContentLength is not { } declared || declared > options.MaxManifestBytes || declared < 0)
        {
            throw new RegistryException(RegistryError.TooLarge, $"manifest needs a Content-Length of at most {options.MaxManifestBytes}");
        }

        var body = new byte[declared];
        await context.Request.Body.ReadExactlyAsync(body, context.RequestAborted).ConfigureAwait(false);
        ManifestReferences references;
        try
        {
            references = ManifestReferences.Read(body);
        }
        catch (Exception ex) when (ex is JsonException or FormatException)
        {
            throw new RegistryException(RegistryError.ManifestInvalid, "manifest invalid", ex.Message);
        }

        // Held while the manifest is stored and its blobs linked, as a push to this member would be: a pass that took its
        // inventory before these links cannot remove the blobs they name (see Collection/CollectionGate).
        var digest = Digest.Compute(body);
        using var pin = services.GetRequiredService<CollectionGate>().Hold([digest, .. references.Blobs, .. references.Manifests]);
        var cluster = services.GetRequiredService<OriginCluster>();
        // The content is stored like a blob before it is linked as a manifest: the repair loop must not take it for a
        // stand-in blob in between.
        using var replicating = cluster.HoldReplicating(digest);
        var tagOrNull = tag.Length > 0 ? tag : null;
        var decision = new OfferDecision(true, tagOrNull is not null, false, false);
        if (context.Request.Query["offer"].ToString() == "1")
        {
            decision = cluster.Tombstones.Decide(repository, digest.Value, tagOrNull);
        }
        else
        {
            // A push on another member: newer than any delete this member remembers.
            cluster.NotePushed(repository, digest, tagOrNull);
        }

        if (decision.StoreManifest)
        {
            await blobs.StoreAsync(body, CancellationToken.None).ConfigureAwait(false);
            foreach (var blob in references.Blobs)
            {
                await repositories.LinkBlobAsync(repository, blob, CancellationToken.None).ConfigureAwait(false);
            }

            await repositories.LinkManifestAsync(repository, digest, mediaType, CancellationToken.None).ConfigureAwait(false);
            if (Referrer.From(references, digest, body.Length, mediaType) is { } referrer)
            {
                await repositories.LinkReferrerAsync(repository, references.Subject!.Value, referrer, CancellationToken.None).ConfigureAwait(false);
            }
        }

        if (decision.SetTag)
        {
            await repositories.SetTagAsync(repository, tag, digest, CancellationToken.None).ConfigureAwait(false);
        }

        context.Response.Headers[RegistryHandler.ContentDigestHeader] = digest.Value;
        context.Response.ContentLength = 0;
        if (decision.Refused)
        {
            context.Response.StatusCode = StatusCodes.Status410Gone;
            context.Response.Headers[DeletedHeader] = decision.ManifestDeleted ? "manifest" : "tag";
            return;
        }

        context.Response.StatusCode = StatusCodes.Status201Created;
    }

    /// <summary>A DELETE made on another member: applied here (if there is anything to delete) and remembered as a tombstone.</summary>
    private static Task DeleteManifestAsync(HttpContext context)
    {
        var services = context.RequestServices;
        var repository = context.Request.Query["repository"].ToString();
        var reference = context.Request.Query["reference"].ToString();
        if (!RepositoryName.IsValid(repository))
        {
            throw new RegistryException(RegistryError.NameInvalid, "invalid repository name");
        }

        if (!Digest.TryParse(reference, out _) && !RepositoryName.IsValidTag(reference))
        {
            throw new RegistryException(RegistryError.ManifestInvalid, "reference is neither a digest nor a tag");
        }

        var cluster = services.GetRequiredService<OriginCluster>();
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
        var at = long.TryParse(context.Request.Query["deletedAt"].ToString(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var ms)
            && ms <= now.ToUnixTimeMilliseconds()
            ? DateTimeOffset.FromUnixTimeMilliseconds(ms)
            : now;
        var options = services.GetRequiredService<IOptions<OriginOptions>>().Value;
        if (ManifestDeletion.Delete(services.GetRequiredService<BlobStore>(), services.GetRequiredService<RepositoryStore>(), options.MaxManifestBytes, repository, reference))
        {
            ClusterLog.DeleteApplied(services.GetRequiredService<ILogger<OriginCluster>>(), repository, reference, "a member's DELETE");
        }

        cluster.Tombstones.Add(repository, reference, at);
        context.Response.StatusCode = StatusCodes.Status202Accepted;
        context.Response.ContentLength = 0;
        return Task.CompletedTask;
    }

    /// <summary>
    /// Another member is about to rely on this one holding the blob (a manifest PUT or a mount naming it): under a hold
    /// of this member's collector, checks that the blob is here and links it into the repository, which makes it young
    /// for this member's collector until the manifest arrives. 201 when held and linked, 404 when not held.
    /// </summary>
    private static async Task PutLinkAsync(HttpContext context)
    {
        var services = context.RequestServices;
        var digest = RouteDigest(context);
        var repository = context.Request.Query["repository"].ToString();
        if (!RepositoryName.IsValid(repository))
        {
            throw new RegistryException(RegistryError.NameInvalid, "invalid repository name");
        }

        using var pin = services.GetRequiredService<CollectionGate>().Hold(digest);
        if (!services.GetRequiredService<BlobStore>().TryGetLength(digest, out _))
        {
            throw new RegistryException(RegistryError.BlobUnknown, "blob not held by this member", digest.Value);
        }

        await services.GetRequiredService<RepositoryStore>().LinkBlobAsync(repository, digest, CancellationToken.None).ConfigureAwait(false);
        context.Response.StatusCode = StatusCodes.Status201Created;
        context.Response.ContentLength = 0;
    }
}
