using Microsoft.Win32.SafeHandles;
using P2PRegistry.Distribution;

namespace P2PRegistry.Agent.Blobs;

/// <summary>
/// A blob streamed straight from the origin, in order: what the swarm cannot have yet because the origin is
/// still pulling it through from its upstream. Bytes are sendable as soon as they are on disk, the final one only
/// once the whole blob hashed to its digest (<see cref="GrowingBlob"/>).
/// </summary>
internal sealed class OriginBlobDownload(long length, string path) : IBlobDownload
{
    /// <summary>Beside <c>download/&lt;hex&gt;</c> of a swarm download: a stream from the origin cannot resume, so a restart removes it.</summary>
    public const string FileSuffix = ".origin";

    /// <summary>The writer's side: progress, then verification or failure.</summary>
    public GrowingBlob Blob { get; } = new(length);

    public long Length { get; } = length;

    public long Stored => Blob.Written;

    public string Path { get; } = path;

    public bool IsComplete => Blob.IsComplete;

    public Task Completion => Blob.Completion;

    public ValueTask<long> WaitReadableAsync(long offset, CancellationToken cancellationToken) => Blob.WaitReadableAsync(offset, cancellationToken);

    /// <summary>The origin sends in order: there is nothing to put first.</summary>
    public long Prioritize(long offset) => Length;

    public int Read(SafeFileHandle file, long offset, Span<byte> destination) => RandomAccess.Read(file, destination, offset);
}
