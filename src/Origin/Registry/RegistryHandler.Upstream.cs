using System.Buffers;
using System.Net;
using P2PRegistry.Core.Content;
using P2PRegistry.Origin.Upstream;
using static P2PRegistry.Distribution.RegistryRequest;

namespace P2PRegistry.Origin.Registry;

internal sealed partial class RegistryHandler
{
    private const int StreamChunkSize = 1024 * 1024;

    private static RegistryException UpstreamError(UpstreamException ex, RegistryError notFound, string notFoundMessage, string detail) => ex.Failure switch
    {
        UpstreamFailure.NotFound => new RegistryException(notFound, notFoundMessage, Truncate(detail)),
        // Counted and logged where the write failed (the fill or the manifest store); the client retries later.
        UpstreamFailure.StorageFull => new RegistryException(RegistryError.InsufficientStorage, "insufficient storage: the registry's disk is full") { Headers = [new("Retry-After", "60")] },
        _ => new RegistryException(RegistryError.Unavailable, $"upstream {ex.Upstream} unavailable", ex.Message),
    };

    /// <summary>The upstream said 404 for this recently: answer it again without asking (see <see cref="NotFoundCache"/>).</summary>
    private void ThrowIfKnownMissing(UpstreamClient client, string name, string reference, RegistryError notFound, string message)
    {
        if (_notFound.Contains(client.Upstream.Name, name, reference))
        {
            _metrics.NotFoundCacheHit();
            throw new RegistryException(notFound, message, Truncate(reference));
        }
    }

    /// <summary>Remembers an upstream 404 (and rethrows nothing: the caller answers it).</summary>
    private void RememberIfMissing(UpstreamException ex, UpstreamClient client, string name, string reference)
    {
        if (ex.Failure == UpstreamFailure.NotFound)
        {
            _notFound.Add(client.Upstream.Name, name, reference);
        }
    }

    /// <summary>Every fill slot is busy: 503 with Retry-After, which clients retry.</summary>
    private static RegistryException FillsBusy(FillSlotsBusyException ex) =>
        new(RegistryError.Unavailable, ex.Message) { Headers = [new("Retry-After", "5")] };

    /// <summary>
    /// A blob the store does not have. HEAD: the length from a fill in progress, else from a HEAD upstream (no
    /// fill). GET: join or start the one fill of this digest and stream from its temp file as it grows; the final
    /// byte follows only once the whole blob verified, and a failed fill cuts the connection.
    /// </summary>
    private async Task GetUpstreamBlobAsync(HttpContext context, UpstreamClient client, string name, string localRepository, Digest digest, bool head)
    {
        var aborted = context.RequestAborted;
        if (!_fills.TryGet(digest, out _))
        {
            ThrowIfKnownMissing(client, name, digest.Value, RegistryError.BlobUnknown, "blob unknown to registry");
        }

        if (head && !_fills.TryGet(digest, out _))
        {
            var length = await HeadUpstreamBlobAsync(client, name, digest, aborted).ConfigureAwait(false);
            WriteBlobHeaders(context, digest, length);
            return;
        }

        BlobFill fill;
        try
        {
            fill = await _fills.GetOrStartAsync(client, name, localRepository, digest, aborted).ConfigureAwait(false);
        }
        catch (FillSlotsBusyException ex)
        {
            throw FillsBusy(ex);
        }

        long total;
        try
        {
            total = await fill.Length.WaitAsync(aborted).ConfigureAwait(false);
        }
        catch (UpstreamException ex)
        {
            RememberIfMissing(ex, client, name, digest.Value);
            throw UpstreamError(ex, RegistryError.BlobUnknown, "blob unknown to registry", digest.Value);
        }

        if (total == 0)
        {
            // Nothing to hold back from an empty body: answer only once it verified.
            try
            {
                await fill.Completion.WaitAsync(aborted).ConfigureAwait(false);
            }
            catch (UpstreamException ex)
            {
                throw UpstreamError(ex, RegistryError.BlobUnknown, "blob unknown to registry", digest.Value);
            }
        }

        var (offset, count) = WriteBlobHeaders(context, digest, total);
        if (head || count <= 0)
        {
            return;
        }

        using var handle = fill.TryOpenReader();
        if (handle is null)
        {
            // The fill is past streaming: it is being renamed into the store, or failed.
            try
            {
                await fill.Completion.WaitAsync(aborted).ConfigureAwait(false);
            }
            catch (UpstreamException ex)
            {
                throw UpstreamError(ex, RegistryError.BlobUnknown, "blob unknown to registry", digest.Value);
            }

            await BlobSender.SendAsync(context, _blobs.DataPath(digest), offset, count, _metrics.BytesSent).ConfigureAwait(false);
            return;
        }

        // Headers go out now: the client knows the length as soon as the upstream told it.
        // (StartAsync alone leaves them buffered until the first body bytes, which a ranged requester may wait long for.)
        await context.Response.StartAsync(aborted).ConfigureAwait(false);
        var body = context.Response.Body;
        await body.FlushAsync(aborted).ConfigureAwait(false);
        var end = offset + count;
        var buffer = ArrayPool<byte>.Shared.Rent(StreamChunkSize);
        try
        {
            while (offset < end)
            {
                // A ranged requester waits here until the fill reached its first byte.
                await fill.WaitReadableAsync(offset, aborted).ConfigureAwait(false);
                var available = Math.Min(fill.Readable, end) - offset;
                var read = RandomAccess.Read(handle, buffer.AsSpan(0, (int)Math.Min(StreamChunkSize, available)), offset);
                if (read == 0)
                {
                    throw new IOException($"fill of {digest.Value} has {fill.Readable} bytes readable but its file ended at {offset}");
                }

                await body.WriteAsync(buffer.AsMemory(0, read), aborted).ConfigureAwait(false);
                offset += read;
                _metrics.BytesSent(read);
            }
        }
        catch (UpstreamException)
        {
            // Headers are sent: cutting the connection is the only way to tell the client the body is bad.
            context.Abort();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async Task<long> HeadUpstreamBlobAsync(UpstreamClient client, string name, Digest digest, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.UpstreamTimeout);
        try
        {
            using var response = await UpstreamExchange.SendAsync(client, _metrics, UpstreamExchange.BlobHead, HttpMethod.Head, name, $"blobs/{digest.Value}", [], timeout.Token).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                _notFound.Add(client.Upstream.Name, name, digest.Value);
                throw new RegistryException(RegistryError.BlobUnknown, "blob unknown to registry", digest.Value);
            }

            if (response.StatusCode != HttpStatusCode.OK || response.Content.Headers.ContentLength is not { } length)
            {
                throw new RegistryException(RegistryError.Unavailable, $"upstream {client.Upstream.Name} unavailable", $"HEAD answered {(int)response.StatusCode}");
            }

            return length;
        }
        catch (UpstreamException ex)
        {
            RememberIfMissing(ex, client, name, digest.Value);
            throw UpstreamError(ex, RegistryError.BlobUnknown, "blob unknown to registry", digest.Value);
        }
        catch (OperationCanceledException ex) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new RegistryException(RegistryError.Unavailable, $"upstream {client.Upstream.Name} unavailable", ex.Message);
        }
        catch (HttpRequestException ex)
        {
            throw new RegistryException(RegistryError.Unavailable, $"upstream {client.Upstream.Name} unavailable", Diagnostics.Redact.UserInfo(ex.Message));
        }
    }
}
