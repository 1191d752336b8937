using System.Net;

namespace P2PRegistry.Testing.Http;

/// <summary>
/// A request body streamed from a file in chunks, optionally throttled, that reports its progress — for uploads a
/// test interrupts on purpose (cancel the request, or kill the server, once <see cref="BytesWritten"/> passes a mark).
/// Content-Length is the whole file, so a server sees a body that ends early, as with a real client that died.
/// </summary>
public sealed class FileRangeContent : HttpContent
{
    private readonly string _path;
    private readonly int _chunkSize;
    private readonly TimeSpan _delayPerChunk;
    private readonly long _length;
    private long _bytesWritten;

    /// <param name="path">The file to send.</param>
    /// <param name="chunkSize">Bytes per write.</param>
    /// <param name="delayPerChunk">A pause after each write (zero = as fast as the socket takes it).</param>
    public FileRangeContent(string path, int chunkSize = 256 * 1024, TimeSpan delayPerChunk = default)
    {
        _path = path;
        _chunkSize = chunkSize;
        _delayPerChunk = delayPerChunk;
        _length = new FileInfo(path).Length;
        Headers.ContentType = new("application/octet-stream");
        Headers.ContentLength = _length;
    }

    public long Length => _length;

    public long BytesWritten => Interlocked.Read(ref _bytesWritten);

    /// <summary>Called after each chunk with the total written so far (the request can be cancelled from here).</summary>
    public Action<long>? OnProgress { get; init; }

    /// <summary>Completes once at least <paramref name="bytes"/> have been handed to the socket.</summary>
    public async Task WaitForBytesWrittenAsync(long bytes, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (BytesWritten < bytes)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Only {BytesWritten} of the {bytes} bytes waited for were written within {timeout}.");
            }

            await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        }
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        var buffer = new byte[_chunkSize];
        await using var file = File.OpenRead(_path);
        int read;
        while ((read = await file.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            await stream.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
            var total = Interlocked.Add(ref _bytesWritten, read);
            OnProgress?.Invoke(total);
            if (_delayPerChunk > TimeSpan.Zero)
            {
                await Task.Delay(_delayPerChunk, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = _length;
        return true;
    }
}
