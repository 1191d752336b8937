using System.Buffers;
using Microsoft.AspNetCore.Http;

namespace P2PRegistry.Distribution;

/// <summary>Copies a stored file range to the response body without buffering the whole file.</summary>
/// <remarks>
/// Measured on loopback against curl (1 GiB, median of 9 interleaved runs): this loop of 1 MiB positional
/// reads and body writes matched docker-registry (950 vs 903 MiB/s on a loaded 2-core host), while
/// <c>HttpResponse.SendFileAsync</c> — a 64 KiB stream copy in Kestrel, which has no sendfile(2) — reached
/// 606 MiB/s. A larger Kestrel response buffer (4 MiB) made no difference.
/// </remarks>
public static class BlobSender
{
    private const int ChunkSize = 1024 * 1024;

    public static async Task SendAsync(HttpContext context, string path, long offset, long count, Action<long>? sent = null)
    {
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, FileOptions.SequentialScan);
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
        try
        {
            var body = context.Response.Body;
            var end = offset + count;
            while (offset < end)
            {
                var read = RandomAccess.Read(handle, buffer.AsSpan(0, (int)Math.Min(ChunkSize, end - offset)), offset);
                if (read == 0)
                {
                    throw new IOException($"{path} ended at {offset}, before the {end} bytes it was announced with.");
                }

                await body.WriteAsync(buffer.AsMemory(0, read), context.RequestAborted).ConfigureAwait(false);
                offset += read;
                sent?.Invoke(read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
