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

    /// <summary>
    /// Copies the response into the file and hashes it, one chunk's hashing (sha256 and the pieces' SHA-1) on the thread
    /// pool while the next chunk is received and written: the stage costs the slower of the two, not their sum. Two
    /// buffers take turns; neither goes back to the pool while a read or a hash may still touch it.
    /// </summary>
    private async Task<MetaInfo> CopyAndHashAsync(HttpResponseMessage response, Digest digest, OriginBlobDownload download, SafeFileHandle file, CancellationToken stopping)
    {
        var length = download.Length;
        using var hasher = new BlobHasher(PieceLength.For(length));
        byte[][] buffers = [ArrayPool<byte>.Shared.Rent(CopyChunk), ArrayPool<byte>.Shared.Rent(CopyChunk)];
        var hashing = Task.CompletedTask;
        Task<int>? reading = null;
        CancellationTokenSource? idle = null;
        try
        {
            var body = await response.Content.ReadAsStreamAsync(stopping).ConfigureAwait(false);
            await using (body.ConfigureAwait(false))
            {
                var written = 0L;
                var current = 0;
                reading = ReadAsync(body, buffers[current], stopping, out idle);
                while (true)
                {
                    int read;
                    try
                    {
                        read = await reading.ConfigureAwait(false);
                    }
                    catch (OperationCanceledException ex) when (!stopping.IsCancellationRequested)
                    {
                        throw new BlobUnavailableException($"the origin sent nothing for {_options.OriginTimeout.TotalSeconds:0} s", ex);
                    }
                    finally
                    {
                        reading = null;
                        idle.Dispose();
                        idle = null;
                    }

                    if (read == 0)
                    {
                        break;
                    }

                    if (written + read > length)
                    {
                        throw new BlobUnavailableException($"the origin sent more than the {length} bytes it announced");
                    }

                    var chunk = buffers[current].AsMemory(0, read);
                    RandomAccess.Write(file, chunk.Span, written);
                    written += read;

                    // The last chunk's hash is done before its buffer takes the next read, and before this one is hashed.
                    await hashing.ConfigureAwait(false);
                    download.Blob.Advance(read);
                    current = 1 - current;
                    reading = ReadAsync(body, buffers[current], stopping, out idle);
                    hashing = Task.Run(() => hasher.Append(chunk.Span), CancellationToken.None);
                }

                await hashing.ConfigureAwait(false);
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
            // A failure may leave a read (the body is disposed: it ends) or a hash in flight on a buffer.
            idle?.Cancel();
            await Task.WhenAll(Quietly(reading), Quietly(hashing)).ConfigureAwait(false);
            idle?.Dispose();
            ArrayPool<byte>.Shared.Return(buffers[0]);
            ArrayPool<byte>.Shared.Return(buffers[1]);
        }

        var actual = hasher.ComputeDigest();
        if (actual != digest)
        {
            AgentLog.OriginDigestMismatch(logger, digest.Value, actual.Value);
            throw new BlobUnavailableException($"the origin's bytes hash to {actual}, not {digest}");
        }

        return hasher.CreateMetaInfo(digest)!;
    }

    /// <summary>Starts reading the next chunk; <paramref name="idle"/> cancels it once the origin sent nothing for <c>OriginTimeout</c>.</summary>
    private Task<int> ReadAsync(Stream body, byte[] buffer, CancellationToken stopping, out CancellationTokenSource idle)
    {
        idle = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        idle.CancelAfter(_options.OriginTimeout);
        return body.ReadAsync(buffer.AsMemory(0, CopyChunk), idle.Token).AsTask();
    }

    /// <summary>Waits for a read or hash whose outcome no longer matters (the copy failed already).</summary>
    private static async Task Quietly(Task? task)
    {
        if (task is null)
        {
            return;
        }

        try
        {
            await task.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The copy's own failure is what the caller reports.
        }
    }
}
