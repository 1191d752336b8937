using P2PRegistry.Agent.Diagnostics;
using P2PRegistry.Agent.Manifests;
using P2PRegistry.Core.Content;
using P2PRegistry.Distribution;
using static P2PRegistry.Distribution.RegistryRequest;

namespace P2PRegistry.Agent.Registry;

internal sealed partial class MirrorHandler
{
    /// <summary>
    /// A tag is resolved through the origin every time (tags move); a digest is served from the local
    /// manifest cache after its first, verified fetch. The origin's bytes and media type pass unchanged.
    /// </summary>
    private async Task GetManifestAsync(HttpContext context, RegistryPath path, bool head)
    {
        var reference = path.Reference;
        Digest? digest = null;
        // A reference no manifest can have (a tag outside the grammar, a digest that is not one) is a manifest that
        // does not exist: 404 MANIFEST_UNKNOWN, as the origin answers, without asking it.
        if (reference.Contains(':', StringComparison.Ordinal))
        {
            digest = Digest.TryParse(reference, out var parsed)
                ? parsed
                : throw new RegistryException(RegistryError.ManifestUnknown, "manifest unknown", Truncate(reference));
        }
        else if (!RepositoryName.IsValidTag(reference))
        {
            throw new RegistryException(RegistryError.ManifestUnknown, "manifest unknown", Truncate(reference));
        }

        var ns = Namespace(context);
        var manifest = digest is { } d ? _manifests.TryGet(d) : null;
        if (manifest is null)
        {
            var lookup = await _origin.GetAsync(UpstreamRepository(path.Name, ns), reference, digest, ns, context.RequestAborted).ConfigureAwait(false);
            if (lookup.Status != ManifestLookupStatus.Found)
            {
                // Unknown or unreachable alike: 404 at once, so containerd asks its next host.
                _metrics.FastMiss("manifest");
                AgentLog.FastMiss(_logger, "manifest", $"{path.Name}:{reference}", ns, lookup.Reason);
                throw new RegistryException(RegistryError.ManifestUnknown, $"manifest unknown: {lookup.Reason}", Truncate(reference));
            }

            manifest = lookup.Manifest!;
            AgentLog.ManifestResolved(_logger, path.Name, reference, ns, manifest.Digest.Value);
            try
            {
                _manifests.Put(manifest);
            }
            catch (IOException ex) when (_diskFull.IsFull(ex))
            {
                // The verified bytes are in memory: the client gets them all the same, only the cache misses out (its
                // temp files went with the failure), and the next request for the digest asks the origin again.
                _diskFull.Report("manifest", ex);
            }
        }

        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = manifest.MediaType;
        response.ContentLength = manifest.Content.Length;
        response.Headers[RegistryHeaders.ContentDigest] = manifest.Digest.Value;
        response.Headers.ETag = $"\"{manifest.Digest.Value}\"";
        _metrics.ManifestServed();
        if (!head)
        {
            await response.Body.WriteAsync(manifest.Content, context.RequestAborted).ConfigureAwait(false);
        }
    }
}
