using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using P2PRegistry.Core.Content;
using P2PRegistry.Origin.Diagnostics;
using P2PRegistry.Origin.Manifests;
using P2PRegistry.Origin.Upstream;
using static P2PRegistry.Distribution.RegistryRequest;

namespace P2PRegistry.Origin.Registry;

internal sealed partial class RegistryHandler
{
    /// <summary>
    /// HEAD/GET a manifest by tag or digest: the stored bytes, with exactly the stored media type. Pushed content
    /// only when <c>ns</c> is absent or names this origin; otherwise (or on a miss without <c>ns</c>) pulled
    /// through from the upstream that <c>ns</c> (or the default upstream) names, into a repository of its own
    /// (<see cref="NamespaceRule"/>).
    /// </summary>
    private async Task GetManifestAsync(HttpContext context, RegistryPath path, bool head)
    {
        var requested = ExistingManifestReference(path.Reference);

        var repository = path.Name;
        var pulledThrough = false;
        var target = TargetOf(context, path.Name);
        var digest = default(Digest);
        if (!(target.Local && TryFindManifest(repository, path.Reference, requested, out digest)))
        {
            var (client, local) = UpstreamOf(target, path.Name);
            if (client is null || local is null)
            {
                throw new RegistryException(RegistryError.ManifestUnknown, "manifest unknown", path.Reference);
            }

            repository = local;
            pulledThrough = true;
            if (!(requested is { } d && _repositories.TryGetManifest(local, d, out _) && _blobs.TryGetLength(d, out _)))
            {
                ThrowIfKnownMissing(client, path.Name, path.Reference, RegistryError.ManifestUnknown, "manifest unknown");
                try
                {
                    digest = await _upstreamManifests.ResolveAsync(client, path.Name, local, path.Reference, context.RequestAborted).ConfigureAwait(false);
                }
                catch (UpstreamException ex)
                {
                    RememberIfMissing(ex, client, path.Name, path.Reference);
                    throw UpstreamError(ex, RegistryError.ManifestUnknown, "manifest unknown", path.Reference);
                }
            }
            else
            {
                digest = d;
            }
        }

        if (!_repositories.TryGetManifest(repository, digest, out var mediaType) || !_blobs.TryGetLength(digest, out var length))
        {
            throw new RegistryException(RegistryError.ManifestUnknown, "manifest unknown", path.Reference);
        }

        if (pulledThrough)
        {
            // Pulled through: least recently served goes first under Origin:PullThroughCacheBytes.
            _pullThroughUsage.Used(repository, digest);
        }

        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = mediaType;
        response.ContentLength = length;
        response.Headers[ContentDigestHeader] = digest.Value;
        response.Headers.ETag = $"\"{digest.Value}\"";
        if (!head && length > 0)
        {
            await BlobSender.SendAsync(context, _blobs.DataPath(digest), 0, length).ConfigureAwait(false);
        }
    }

    /// <summary>A manifest of the (pushed) repository itself, by tag or digest.</summary>
    private bool TryFindManifest(string repository, string reference, Digest? requested, out Digest digest)
    {
        if (requested is { } d)
        {
            digest = d;
        }
        else if (!_repositories.TryResolveTag(repository, reference, out digest))
        {
            return false;
        }

        return _repositories.TryGetManifest(repository, digest, out _) && _blobs.TryGetLength(digest, out _);
    }

    /// <summary>
    /// PUT a manifest: size-limited, valid JSON, every referenced blob (or child manifest) present in this
    /// repository, digest matching when pushed by digest. Stored byte-exact; 201 with its digest.
    /// </summary>
    private async Task PutManifestAsync(HttpContext context, RegistryPath path)
    {
        var byDigest = IsDigestReference(path.Reference);
        Digest? claimed = byDigest ? ParseDigest(path.Reference) : null;
        if (!byDigest && !RepositoryName.IsValidTag(path.Reference))
        {
            throw new RegistryException(RegistryError.TagInvalid, "invalid tag", Truncate(path.Reference));
        }

        var body = await ReadManifestBodyAsync(context).ConfigureAwait(false);
        var digest = Digest.Compute(body.Span);
        if (claimed is { } expected && expected != digest)
        {
            throw new RegistryException(RegistryError.DigestInvalid, "manifest digest does not match the reference", $"content is {digest.Value}");
        }

        ManifestReferences references;
        try
        {
            references = ManifestReferences.Read(body);
        }
        catch (JsonException ex)
        {
            throw new RegistryException(RegistryError.ManifestInvalid, "manifest is not valid JSON", ex.Message);
        }
        catch (FormatException ex)
        {
            throw new RegistryException(RegistryError.ManifestInvalid, "manifest invalid", ex.Message);
        }

        // Held from before the checks until the links are written: garbage collection cannot remove what this manifest
        // names in between (see Collection/CollectionGate).
        using var pin = _gc.Hold([digest, .. references.Blobs, .. references.Manifests]);
        foreach (var blob in references.Blobs)
        {
            if (!_repositories.HasBlob(path.Name, blob) || !await _cluster.ExistsAsync(blob, path.Name, context.RequestAborted).ConfigureAwait(false))
            {
                throw new RegistryException(RegistryError.ManifestBlobUnknown, "manifest references a blob unknown to this repository", blob.Value);
            }
        }

        foreach (var child in references.Manifests)
        {
            if (!_repositories.TryGetManifest(path.Name, child, out _) && !_repositories.HasBlob(path.Name, child))
            {
                throw new RegistryException(RegistryError.ManifestBlobUnknown, "index references a manifest unknown to this repository", child.Value);
            }
        }

        var mediaType = MediaTypeOf(context.Request.ContentType) ?? references.MediaType ?? references.DefaultMediaType;
        if (!IsValidMediaType(mediaType))
        {
            // It is served back as a Content-Type header, so it must be one.
            throw new RegistryException(RegistryError.ManifestInvalid, "invalid manifest media type", Truncate(mediaType));
        }

        await _blobs.StoreAsync(body, CancellationToken.None).ConfigureAwait(false);
        await _repositories.LinkManifestAsync(path.Name, digest, mediaType, CancellationToken.None).ConfigureAwait(false);
        var subject = await LinkReferrerAsync(path.Name, digest, body.Length, mediaType, references).ConfigureAwait(false);
        if (!byDigest)
        {
            await _repositories.SetTagAsync(path.Name, path.Reference, digest, CancellationToken.None).ConfigureAwait(false);
        }

        // Every member holds every manifest and tag; one that is down gets them from the repair loop. A push writes
        // anew what a DELETE may have removed before: its tombstones go.
        _cluster.NotePushed(path.Name, digest, byDigest ? null : path.Reference);
        await _cluster.ReplicateManifestAsync(path.Name, byDigest ? null : path.Reference, digest, body, mediaType, CancellationToken.None).ConfigureAwait(false);
        _metrics.ManifestStored();
        OriginLog.ManifestStored(_logger, digest.Value, mediaType, body.Length, path.Name, path.Reference);

        var response = context.Response;
        response.StatusCode = StatusCodes.Status201Created;
        response.Headers.Location = $"/v2/{path.Name}/manifests/{digest.Value}";
        response.Headers[ContentDigestHeader] = digest.Value;
        if (subject is { } recorded)
        {
            response.Headers[SubjectHeader] = recorded.Value;
        }

        response.ContentLength = 0;
    }

    /// <summary>
    /// DELETE by digest removes the revision and its tags; by tag removes the tag only. In a cluster the delete reaches
    /// every member (a tombstone remembers it for the members that are down: see <see cref="Cluster.Tombstones"/>).
    /// </summary>
    private async Task DeleteManifest(HttpContext context, RegistryPath path)
    {
        var reference = ExistingManifestReference(path.Reference) is { } digest ? digest.Value : path.Reference;
        if (!ManifestDeletion.Delete(_blobs, _repositories, _options.MaxManifestBytes, path.Name, reference))
        {
            throw new RegistryException(RegistryError.ManifestUnknown, "manifest unknown", path.Reference);
        }

        await _cluster.ReplicateDeleteAsync(path.Name, reference, CancellationToken.None).ConfigureAwait(false);
        context.Response.StatusCode = StatusCodes.Status202Accepted;
        context.Response.ContentLength = 0;
    }

    // A tag cannot hold ':'; a digest always does.
    private static bool IsDigestReference(string reference) => reference.Contains(':', StringComparison.Ordinal);

    private const int InitialManifestBuffer = 16 * 1024;

    /// <summary>
    /// The digest of a reference to a manifest that may exist (null for a tag). A reference no manifest can have — a
    /// tag outside the grammar (<c>.x</c>, 200 characters, <c>a!b</c>) or a digest that is not one — is 404
    /// MANIFEST_UNKNOWN, like any other manifest that does not exist (OCI 1.1); only a PUT refuses it as invalid.
    /// </summary>
    private static Digest? ExistingManifestReference(string reference)
    {
        if (IsDigestReference(reference))
        {
            return Digest.TryParse(reference, out var digest)
                ? digest
                : throw new RegistryException(RegistryError.ManifestUnknown, "manifest unknown", Truncate(reference));
        }

        return RepositoryName.IsValidTag(reference)
            ? null
            : throw new RegistryException(RegistryError.ManifestUnknown, "manifest unknown", Truncate(reference));
    }

    /// <summary>Reads the body under the manifest limit: the declared length first, then counting as it arrives.</summary>
    private async Task<ReadOnlyMemory<byte>> ReadManifestBodyAsync(HttpContext context)
    {
        var max = _options.MaxManifestBytes;
        var declared = context.Request.ContentLength;
        if (declared > max)
        {
            throw new RegistryException(RegistryError.TooLarge, $"manifest exceeds the {max}-byte limit", $"{declared} bytes");
        }

        var sizeFeature = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (sizeFeature is { IsReadOnly: false })
        {
            sizeFeature.MaxRequestBodySize = null;
        }

        // Sized by what arrives, never by what the header claims: a Content-Length of 60 MB followed by 10 bytes
        // costs one small buffer. ArrayBufferWriter doubles as it fills, so memory stays within twice the bytes read.
        var buffer = new ArrayBufferWriter<byte>(InitialManifestBuffer);
        var body = context.Request.Body;
        while (true)
        {
            var memory = buffer.GetMemory(16 * 1024);
            var read = await body.ReadAsync(memory, context.RequestAborted).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            buffer.Advance(read);
            if (buffer.WrittenCount > max)
            {
                throw new RegistryException(RegistryError.TooLarge, $"manifest exceeds the {max}-byte limit");
            }
        }

        return buffer.WrittenMemory;
    }

    /// <summary>The media type of a Content-Type header, without parameters such as <c>charset</c>.</summary>
    private static string? MediaTypeOf(string? contentType)
    {
        if (string.IsNullOrWhiteSpace(contentType))
        {
            return null;
        }

        var semicolon = contentType.IndexOf(';', StringComparison.Ordinal);
        var mediaType = (semicolon >= 0 ? contentType[..semicolon] : contentType).Trim();
        return mediaType.Length == 0 ? null : mediaType;
    }

    /// <summary>RFC 6838 <c>type "/" subtype</c> with restricted-name characters, at most 255 long.</summary>
    internal static bool IsValidMediaType(string mediaType)
    {
        var slash = mediaType.IndexOf('/', StringComparison.Ordinal);
        if (mediaType.Length > 255 || slash <= 0 || slash == mediaType.Length - 1)
        {
            return false;
        }

        for (var i = 0; i < mediaType.Length; i++)
        {
            var c = mediaType[i];
            if (!(char.IsAsciiLetterOrDigit(c) || c is '!' or '#' or '$' or '&' or '^' or '_' or '.' or '+' or '-' || (c == '/' && i == slash)))
            {
                return false;
            }
        }

        return true;
    }
}
