using Microsoft.Win32.SafeHandles;

namespace P2PRegistry.Agent.Blobs;

/// <summary>
/// A blob being fetched into a file that clients stream from while it grows: through the swarm (pieces
/// verified one by one, in any order) or straight from the origin (bytes in order, pulled through from an
/// upstream the first time a blob is wanted).
/// </summary>
internal interface IBlobDownload
{
    /// <summary>How much the download has stored so far (grows while its source delivers, in any order).</summary>
    long Stored { get; }

    long Length { get; }

    /// <summary>The file being written; readers open it by their own handle (it stays valid when the file moves into the cache).</summary>
    string Path { get; }

    bool IsComplete { get; }

    /// <summary>Succeeds once the whole blob hashed to its digest; faults otherwise.</summary>
    Task Completion { get; }

    /// <summary>
    /// Waits until the byte at <paramref name="offset"/> may be sent and returns the end (exclusive) of the run of
    /// sendable bytes that starts there.
    /// </summary>
    ValueTask<long> WaitReadableAsync(long offset, CancellationToken cancellationToken);

    /// <summary>
    /// A reader needs the bytes from <paramref name="offset"/> next: fetch them before any other. Returns the offset
    /// up to which that holds (the reader asks again from there), so each reader keeps its own place.
    /// </summary>
    long Prioritize(long offset);

    /// <summary>
    /// Reads sendable bytes at <paramref name="offset"/>, from <paramref name="file"/> (the reader's own handle on
    /// <see cref="Path"/>) or through the download itself while it writes past the page cache. Returns the bytes read.
    /// </summary>
    int Read(SafeFileHandle file, long offset, Span<byte> destination);
}
