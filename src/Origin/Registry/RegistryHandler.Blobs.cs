using Microsoft.Net.Http.Headers;
using P2PRegistry.Core.Content;
using P2PRegistry.Origin.Cluster;
using static P2PRegistry.Distribution.RegistryRequest;

namespace P2PRegistry.Origin.Registry;

internal sealed partial class RegistryHandler
{
    /// <summary>
    /// HEAD/GET a blob, honouring one byte range (see <see cref="ByteRange"/>). The body goes from the file
    /// to the socket without buffering the blob. A pushed repository's blobs answer only when <c>ns</c> is absent
    /// or names this origin (<see cref="NamespaceRule"/>). A blob the repository does not hold is, when <c>ns</c> (or
    /// the default upstream) names an upstream, served from the store if any repository brought it in (its digest is
    /// its identity, whoever brought it), else filled from the upstream and streamed while it arrives.
    /// </summary>
    private async Task GetBlobAsync(HttpContext context, RegistryPath path, bool head)
    {
        var digest = ParseDigest(path.Reference);
        var target = TargetOf(context, path.Name);
        long length = 0;
        if (!(target.Local && _repositories.HasBlob(path.Name, digest) && _blobs.TryGetLength(digest, out length)))
        {
            // In a cluster the repository's blob may live on other members only: streamed from one of its owners.
            if (target.Local && _cluster.Enabled && _repositories.HasBlob(path.Name, digest)
                && await _cluster.TryProxyAsync(context, digest, ClusterEndpoints.BlobPath(digest), head, _metrics.BytesSent).ConfigureAwait(false))
            {
                return;
            }

            var (client, local) = UpstreamOf(target, path.Name);
            if (client is null || local is null)
            {
                throw new RegistryException(RegistryError.BlobUnknown, "blob unknown to registry", digest.Value);
            }

            // Content addressed: bytes any repository brought in are the blob, whoever asks.
            if (!_blobs.TryGetLength(digest, out length))
            {
                await GetUpstreamBlobAsync(context, client, path.Name, local, digest, head).ConfigureAwait(false);
                return;
            }
        }

        var (offset, count) = WriteBlobHeaders(context, digest, length);
        if (head || count <= 0)
        {
            return;
        }

        try
        {
            await BlobSender.SendAsync(context, _blobs.DataPath(digest), offset, count, _metrics.BytesSent).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException && !context.Response.HasStarted)
        {
            // Removed since the check (the collector, or this member dropping a copy its owners hold): in a cluster an
            // owner still has it; else it is gone. Either way no 500, and no member is marked down for it.
            context.Response.Headers.Clear();
            if (_cluster.Enabled && _repositories.HasBlob(path.Name, digest)
                && await _cluster.TryProxyAsync(context, digest, ClusterEndpoints.BlobPath(digest), head, _metrics.BytesSent).ConfigureAwait(false))
            {
                return;
            }

            throw new RegistryException(RegistryError.BlobUnknown, "blob unknown to registry", digest.Value);
        }
    }

    /// <summary>The shared blob headers, plus: a blob never changes under its digest.</summary>
    private static (long Offset, long Count) WriteBlobHeaders(HttpContext context, Digest digest, long length)
    {
        context.Response.Headers.CacheControl = "max-age=31536000";
        return RegistryResponses.WriteBlobHeaders(context, digest, length);
    }

    /// <summary>Removes the blob from the repository (its bytes stay for other repositories).</summary>
    private Task DeleteBlob(HttpContext context, RegistryPath path)
    {
        var digest = ParseDigest(path.Reference);
        if (!_repositories.UnlinkBlob(path.Name, digest))
        {
            throw new RegistryException(RegistryError.BlobUnknown, "blob unknown to repository", digest.Value);
        }

        context.Response.StatusCode = StatusCodes.Status202Accepted;
        context.Response.ContentLength = 0;
        return Task.CompletedTask;
    }
}
