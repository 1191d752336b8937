using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Options;
using P2PRegistry.Core.Content;
using P2PRegistry.Hosting.Storage;
using P2PRegistry.Origin.Configuration;
using P2PRegistry.Origin.Diagnostics;
using P2PRegistry.Origin.Manifests;
using P2PRegistry.Origin.Registry;
using P2PRegistry.Origin.Storage;

namespace P2PRegistry.Origin.Upstream;

/// <summary>
/// Manifests from upstreams. A tag is revalidated with a HEAD every time (coalesced while one is in flight);
/// the digest it names is served from the store when present, else fetched, verified and stored byte-exact
/// with its media type. When the upstream cannot be asked, a tag cached earlier is served instead.
/// Manifests by digest come from the store first.
/// </summary>
internal sealed class UpstreamManifests
{
    private readonly ConcurrentDictionary<string, Task<Digest>> _inFlight = new(StringComparer.Ordinal);
    private readonly BlobStore _blobs;
    private readonly RepositoryStore _repositories;
    private readonly OriginMetrics _metrics;
    private readonly ILogger<UpstreamManifests> _logger;
    private readonly DiskFullReporter _storageFull;
    private readonly TimeSpan _timeout;
    private readonly TimeSpan _revalidationTimeout;
    private readonly long _maxBytes;
    private readonly Collection.CollectionGate _gc;

    public UpstreamManifests(BlobStore blobs, RepositoryStore repositories, OriginMetrics metrics, IOptions<OriginOptions> options, ILogger<UpstreamManifests> logger, DiskFullReporter storageFull, Collection.CollectionGate gc)
    {
        _storageFull = storageFull;
        _gc = gc;
        _blobs = blobs;
        _repositories = repositories;
        _metrics = metrics;
        _logger = logger;
        _timeout = options.Value.UpstreamTimeout;
        _revalidationTimeout = options.Value.RevalidationTimeout;
        _maxBytes = options.Value.MaxManifestBytes;
    }

    /// <summary>
    /// Makes the manifest <paramref name="reference"/> of <paramref name="repository"/> at the upstream present in
    /// <paramref name="localRepository"/> and returns its digest. Throws <see cref="UpstreamException"/>
    /// (<see cref="UpstreamFailure.NotFound"/> when the upstream has no such manifest).
    /// </summary>
    public Task<Digest> ResolveAsync(UpstreamClient client, string repository, string localRepository, string reference, CancellationToken cancellationToken)
    {
        var key = $"{localRepository}\n{reference}";
        while (true)
        {
            if (_inFlight.TryGetValue(key, out var running))
            {
                return running.WaitAsync(cancellationToken);
            }

            // Shared by every requester, so it runs on its own timeout: one requester leaving does not cancel it.
            var source = new TaskCompletionSource<Digest>(TaskCreationOptions.RunContinuationsAsynchronously);
            if (_inFlight.TryAdd(key, source.Task))
            {
                _ = Task.Run(async () =>
                {
                    try
                    {
                        source.TrySetResult(await RunAsync(client, repository, localRepository, reference).ConfigureAwait(false));
                    }
                    catch (Exception ex)
                    {
                        source.TrySetException(ex);
                    }
                    finally
                    {
                        _inFlight.TryRemove(new KeyValuePair<string, Task<Digest>>(key, source.Task));
                    }
                }, CancellationToken.None);
                _ = source.Task.ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
                return source.Task.WaitAsync(cancellationToken);
            }
        }
    }

    private async Task<Digest> RunAsync(UpstreamClient client, string repository, string localRepository, string reference)
    {
        using var timeout = new CancellationTokenSource(_timeout);
        var upstream = client.Upstream.Name;
        try
        {
            if (Digest.TryParse(reference, out var byDigest))
            {
                if (IsStored(localRepository, byDigest))
                {
                    return byDigest;
                }

                await FetchAsync(client, repository, localRepository, reference, byDigest, timeout.Token).ConfigureAwait(false);
                return byDigest;
            }

            return await RevalidateTagAsync(client, repository, localRepository, reference, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (timeout.IsCancellationRequested)
        {
            throw new UpstreamException(UpstreamFailure.TimedOut, upstream, $"manifest {repository}:{reference} took longer than {_timeout}", ex);
        }
        catch (IOException ex) when (_storageFull.IsFull(ex))
        {
            // Storing what the upstream sent failed; the manifest's temp file and links are gone with the failure.
            _storageFull.Report("upstream_manifest", ex);
            throw new UpstreamException(UpstreamFailure.StorageFull, upstream, $"no space left to store manifest {repository}:{reference}", ex);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            throw new UpstreamException(UpstreamFailure.Unreachable, upstream, $"manifest {repository}:{reference}: {ex.Message}", ex);
        }
    }

    private async Task<Digest> RevalidateTagAsync(UpstreamClient client, string repository, string localRepository, string tag, CancellationToken cancellationToken)
    {
        var upstream = client.Upstream.Name;
        Digest? announced = null;
        // With a cached tag to fall back on, a hanging upstream costs RevalidationTimeout, not UpstreamTimeout: the
        // cached answer must reach a requester (the agent gives up on a manifest after 30 s) while it still waits.
        using var revalidation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (CachedTag(localRepository, tag) is not null)
        {
            revalidation.CancelAfter(_revalidationTimeout);
        }

        try
        {
            using var head = await UpstreamExchange.SendAsync(client, _metrics, UpstreamExchange.ManifestHead, HttpMethod.Head, repository, $"manifests/{tag}", UpstreamExchange.ManifestAccept, revalidation.Token).ConfigureAwait(false);
            if (head.StatusCode == HttpStatusCode.NotFound)
            {
                throw new UpstreamException(UpstreamFailure.NotFound, upstream, $"has no manifest {repository}:{tag}");
            }

            if (head.StatusCode != HttpStatusCode.OK)
            {
                throw new UpstreamException(UpstreamFailure.Failed, upstream, $"answered {(int)head.StatusCode} to HEAD {repository}:{tag}");
            }

            if (head.Headers.TryGetValues(RegistryHandler.ContentDigestHeader, out var values) && Digest.TryParse(values.FirstOrDefault(), out var digest))
            {
                announced = digest;
            }
        }
        catch (Exception ex) when (IsUnavailable(ex) && CachedTag(localRepository, tag) is { } cached)
        {
            var reason = ex is OperationCanceledException && revalidation.IsCancellationRequested && !cancellationToken.IsCancellationRequested
                ? $"no answer to HEAD within the revalidation timeout {_revalidationTimeout}"
                : ex.Message;
            UpstreamLog.TagServedFromCache(_logger, upstream, repository, tag, reason, cached.Value);
            return cached;
        }

        if (announced is { } known && IsStored(localRepository, known))
        {
            if (CachedTag(localRepository, tag) != known)
            {
                await _repositories.SetTagAsync(localRepository, tag, known, CancellationToken.None).ConfigureAwait(false);
            }

            return known;
        }

        // Fetch by the announced digest when there is one, so the bytes are exactly the revision the HEAD named.
        try
        {
            var fetched = await FetchAsync(client, repository, localRepository, announced?.Value ?? tag, announced, cancellationToken).ConfigureAwait(false);
            await _repositories.SetTagAsync(localRepository, tag, fetched, CancellationToken.None).ConfigureAwait(false);
            return fetched;
        }
        catch (Exception ex) when (IsUnavailable(ex) && CachedTag(localRepository, tag) is { } cached)
        {
            UpstreamLog.TagServedFromCache(_logger, upstream, repository, tag, ex.Message, cached.Value);
            return cached;
        }
    }

    /// <summary>GET, check size and digest (against <paramref name="expected"/> and the upstream's own header), store, link.</summary>
    private async Task<Digest> FetchAsync(UpstreamClient client, string repository, string localRepository, string reference, Digest? expected, CancellationToken cancellationToken)
    {
        var upstream = client.Upstream.Name;
        using var response = await UpstreamExchange.SendAsync(client, _metrics, UpstreamExchange.ManifestGet, HttpMethod.Get, repository, $"manifests/{reference}", UpstreamExchange.ManifestAccept, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            throw new UpstreamException(UpstreamFailure.NotFound, upstream, $"has no manifest {repository}:{reference}");
        }

        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new UpstreamException(UpstreamFailure.Failed, upstream, $"answered {(int)response.StatusCode} to GET manifest {repository}:{reference}");
        }

        var body = await ReadLimitedAsync(response, upstream, cancellationToken).ConfigureAwait(false);
        var actual = Digest.Compute(body.Span);
        Digest? claimed = response.Headers.TryGetValues(RegistryHandler.ContentDigestHeader, out var values) && Digest.TryParse(values.FirstOrDefault(), out var header) ? header : null;
        foreach (var mustMatch in new[] { expected, claimed })
        {
            if (mustMatch is { } value && value != actual)
            {
                _metrics.UpstreamDigestMismatch();
                UpstreamLog.ManifestDigestMismatch(_logger, upstream, repository, reference, value.Value, actual.Value);
                throw new UpstreamException(UpstreamFailure.DigestMismatch, upstream, $"manifest {repository}:{reference} hashes to {actual.Value}, not {value.Value}");
            }
        }

        var mediaType = MediaTypeOf(response.Content.Headers.ContentType?.MediaType, body);
        using var pin = _gc.Hold(actual);
        await _blobs.StoreAsync(body, CancellationToken.None).ConfigureAwait(false);
        await _repositories.LinkManifestAsync(localRepository, actual, mediaType, CancellationToken.None).ConfigureAwait(false);
        _metrics.ManifestStored();
        UpstreamLog.ManifestPulled(_logger, upstream, actual.Value, mediaType, body.Length, repository, reference);
        return actual;
    }

    private async Task<ReadOnlyMemory<byte>> ReadLimitedAsync(HttpResponseMessage response, string upstream, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentLength > _maxBytes)
        {
            throw new UpstreamException(UpstreamFailure.Protocol, upstream, $"manifest exceeds the {_maxBytes}-byte limit");
        }

        // Grown as bytes arrive, not sized by the header's claim.
        var buffer = new ArrayBufferWriter<byte>(16 * 1024);
        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            while (true)
            {
                var read = await stream.ReadAsync(buffer.GetMemory(16 * 1024), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    return buffer.WrittenMemory;
                }

                buffer.Advance(read);
                if (buffer.WrittenCount > _maxBytes)
                {
                    throw new UpstreamException(UpstreamFailure.Protocol, upstream, $"manifest exceeds the {_maxBytes}-byte limit");
                }
            }
        }
    }

    /// <summary>The upstream's Content-Type when it names a manifest type; else the JSON's own <c>mediaType</c>, else the OCI default.</summary>
    private static string MediaTypeOf(string? contentType, ReadOnlyMemory<byte> body)
    {
        if (contentType is { Length: > 0 } && RegistryHandler.IsValidMediaType(contentType) && contentType is not ("application/json" or "text/plain" or "application/octet-stream"))
        {
            return contentType;
        }

        try
        {
            var references = ManifestReferences.Read(body);
            return references.MediaType is { } own && RegistryHandler.IsValidMediaType(own) ? own : references.DefaultMediaType;
        }
        catch (Exception ex) when (ex is JsonException or FormatException)
        {
            return ManifestReferences.OciManifest;
        }
    }

    private bool IsStored(string localRepository, Digest digest) =>
        _repositories.TryGetManifest(localRepository, digest, out _) && _blobs.TryGetLength(digest, out _);

    private Digest? CachedTag(string localRepository, string tag) =>
        _repositories.TryResolveTag(localRepository, tag, out var digest) && IsStored(localRepository, digest) ? digest : null;

    /// <summary>Anything but "the upstream says there is no such manifest" leaves a cached tag usable.</summary>
    private static bool IsUnavailable(Exception ex) => ex switch
    {
        UpstreamException upstream => upstream.Failure is not (UpstreamFailure.NotFound or UpstreamFailure.DigestMismatch),
        HttpRequestException or IOException or OperationCanceledException => true,
        _ => false,
    };
}
