using System.Buffers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Win32.SafeHandles;
using P2PRegistry.Agent.Configuration;
using P2PRegistry.Agent.Diagnostics;
using P2PRegistry.Core.Content;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Hosting.Storage;

namespace P2PRegistry.Agent.Blobs;

/// <summary>
/// Streams a blob no origin holds yet from the origin, which pulls it through from its upstream, into
/// <c>download/&lt;hex&gt;.origin</c> that readers follow, hashing it as it arrives. The MetaInfo is computed from the
/// same bytes with the origin's own rule, so it has the origin's info hash and the blob can be seeded like a swarm
/// download once its sha256 matched.
/// </summary>
internal sealed class OriginBlobStreamer(OriginBlobClient origin, IOptions<AgentOptions> options, ILogger<OriginBlobStreamer> logger)
{
    private const int CopyChunk = 256 * 1024;

    private readonly AgentOptions _options = options.Value;
    private readonly string _root = Path.GetFullPath(options.Value.DownloadPath);

    /// <summary>
    /// Asks the origin for <paramref name="fetch"/>'s blob, starts the fetch with the download once its file exists,
    /// and returns once the whole blob is written and verified (the download is complete, its file not yet moved).
    /// On failure the download fails, its file goes, and <see cref="BlobUnavailableException"/> says why.
    /// </summary>
    public async Task<(OriginBlobDownload Download, MetaInfo MetaInfo)> StreamAsync(BlobFetch fetch, CancellationToken stopping)
    {
        var digest = fetch.Digest;
        HttpResponseMessage response;
        using (var headers = CancellationTokenSource.CreateLinkedTokenSource(stopping))
        {
            headers.CancelAfter(_options.OriginTimeout);
            try
            {
                response = await origin.GetAsync(fetch.Repository!, digest.Value, fetch.Namespace, headers.Token).ConfigureAwait(false);
            }
            catch (HttpRequestException ex)
            {
                throw new BlobUnavailableException($"the origin is unreachable: {ex.Message}", ex);
            }
            catch (OperationCanceledException ex) when (!stopping.IsCancellationRequested)
            {
                throw new BlobUnavailableException("the origin did not answer in time", ex);
            }
        }

        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                throw new BlobUnavailableException($"the origin answered {(int)response.StatusCode} for it");
            }

            if (response.Content.Headers.ContentLength is not { } length || length < 0)
            {
                throw new BlobUnavailableException("the origin sent it without a length");
            }

            BlobUnavailableException.ThrowIfLargerThanTheCache(length, _options.CacheCapacityBytes);

            AgentLog.FetchFromOrigin(logger, digest.Value, length, fetch.Repository!, fetch.Namespace);
            var path = Path.Combine(_root, digest.Hex + OriginBlobDownload.FileSuffix);
            var download = new OriginBlobDownload(length, path);
            try
            {
                // The file exists before any reader learns of the download: a reader that found no file would take
                // it for a finished download and wait for the cache instead of streaming.
                MetaInfo metaInfo;
                using (var file = Create(path, length))
                {
                    fetch.SetStarted(download);
                    metaInfo = await CopyAndHashAsync(response, digest, download, file, stopping).ConfigureAwait(false);
                }

                download.Blob.Complete(length);
                return (download, metaInfo);
            }
            catch (Exception ex)
            {
                Discard(download, ex);
                throw;
            }
        }
    }

    /// <summary>
    /// The download's file, preallocated: a blob the disk has no room for is refused before any reader is told it
    /// started (a fast miss), not cut off half way.
    /// </summary>
    private SafeFileHandle Create(string path, long length)
    {
        try
        {
            return File.OpenHandle(path, FileMode.Create, FileAccess.Write, FileShare.Read | FileShare.Delete, FileOptions.None, preallocationSize: length);
        }
        catch (IOException ex) when (DiskFull.Is(ex, _root, length))
        {
            throw DiskFull.NoSpace($"No space left for the {length} bytes of {path}.", ex);
        }
    }

    /// <summary>A download that failed, or whose blob could not enter the cache: its readers fail and its file goes.</summary>
    public static void Discard(OriginBlobDownload download, Exception failure)
    {
        download.Blob.Fail(failure);
        File.Delete(download.Path);
    }

    private async Task<MetaInfo> CopyAndHashAsync(HttpResponseMessage response, Digest digest, OriginBlobDownload download, SafeFileHandle file, CancellationToken stopping)
    {
        var length = download.Length;
        using var hasher = new BlobHasher(PieceLength.For(length));
        var buffer = ArrayPool<byte>.Shared.Rent(CopyChunk);
        try
        {
            var body = await response.Content.ReadAsStreamAsync(stopping).ConfigureAwait(false);
            await using (body.ConfigureAwait(false))
            {
                var written = 0L;
                while (true)
                {
                    int read;
                    using (var idle = CancellationTokenSource.CreateLinkedTokenSource(stopping))
                    {
                        // A stalled origin fails the download instead of holding its readers forever.
                        idle.CancelAfter(_options.OriginTimeout);
                        try
                        {
                            read = await body.ReadAsync(buffer.AsMemory(0, CopyChunk), idle.Token).ConfigureAwait(false);
                        }
                        catch (OperationCanceledException ex) when (!stopping.IsCancellationRequested)
                        {
                            throw new BlobUnavailableException($"the origin sent nothing for {_options.OriginTimeout.TotalSeconds:0} s", ex);
                        }
                    }

                    if (read == 0)
                    {
                        break;
                    }

                    if (written + read > length)
                    {
                        throw new BlobUnavailableException($"the origin sent more than the {length} bytes it announced");
                    }

                    RandomAccess.Write(file, buffer.AsSpan(0, read), written);
                    hasher.Append(buffer.AsSpan(0, read));
                    written += read;
                    download.Blob.Advance(read);
                }

                if (written != length)
                {
                    throw new BlobUnavailableException($"the origin's response ended at {written} of {length} bytes");
                }
            }
        }
        catch (IOException ex)
        {
            throw new BlobUnavailableException($"the origin's response broke off: {ex.Message}", ex);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        var actual = hasher.ComputeDigest();
        if (actual != digest)
        {
            AgentLog.OriginDigestMismatch(logger, digest.Value, actual.Value);
            throw new BlobUnavailableException($"the origin's bytes hash to {actual}, not {digest}");
        }

        return hasher.CreateMetaInfo(digest)!;
    }
}
