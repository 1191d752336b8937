using Microsoft.Win32.SafeHandles;
using P2PRegistry.Core.Content;
using P2PRegistry.Distribution;

namespace P2PRegistry.Origin.Upstream;

/// <summary>
/// One blob on its way from an upstream into the store: a temp file that grows as the upstream body arrives,
/// and that every requester of the digest streams from as it grows. The writer (<see cref="BlobFills"/>)
/// reports progress; readers wait for the bytes they need. The final byte is held back until the whole blob
/// hashed to its digest, so no requester ever receives all the bytes of a bad blob.
/// </summary>
internal sealed class BlobFill
{
    private readonly Lock _gate = new();
    private readonly TaskCompletionSource<long> _length = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly GrowingBlob _blob = new();
    private bool _attachable = true;

    public BlobFill(Digest digest, string upstream, string tempPath)
    {
        Digest = digest;
        Upstream = upstream;
        TempPath = tempPath;
        // Nobody may be left with an unobserved fault when no requester waited for it.
        _ = _length.Task.ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
    }

    public Digest Digest { get; }

    public string Upstream { get; }

    public string TempPath { get; }

    /// <summary>The blob's length, known when the upstream answered with a Content-Length (else when the fill ends); faults if the fill fails first.</summary>
    public Task<long> Length => _length.Task;

    /// <summary>Completes when the blob is in the store; faults with an <see cref="UpstreamException"/> when the fill stored nothing.</summary>
    public Task Completion => _blob.Completion;

    /// <summary>Bytes written to the temp file so far.</summary>
    public long Written => _blob.Written;

    /// <summary>
    /// How many bytes from the start a reader may send now: everything once verified; before that everything
    /// written except the blob's final byte.
    /// </summary>
    public long Readable => _blob.Readable;

    /// <summary>
    /// A read handle on the temp file, or null once the fill stopped accepting readers (about to be renamed into
    /// the store, or failed) or its file is gone: then wait for <see cref="Completion"/> and read the store (or
    /// answer its failure). An open handle stays valid across the rename.
    /// </summary>
    public SafeFileHandle? TryOpenReader()
    {
        lock (_gate)
        {
            if (!_attachable)
            {
                return null;
            }

            try
            {
                return File.OpenHandle(TempPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            }
            catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
            {
                // Removed under us (a failing fill deletes its file): Completion says what happened.
                return null;
            }
        }
    }

    /// <summary>Waits until more than <paramref name="position"/> bytes are readable; throws the fill's failure unless it came after the bytes were verified.</summary>
    public async ValueTask WaitReadableAsync(long position, CancellationToken cancellationToken) =>
        await _blob.WaitReadableAsync(position, cancellationToken).ConfigureAwait(false);

    public void SetLength(long length)
    {
        _blob.SetLength(length);
        _length.TrySetResult(length);
    }

    public void Advance(long count) => _blob.Advance(count);

    /// <summary>From now on readers that arrive read the store, not the temp file.</summary>
    public void StopAttaching()
    {
        lock (_gate)
        {
            _attachable = false;
        }
    }

    /// <summary>
    /// The whole blob hashed to its digest: attached readers may send the final byte while the fill makes the file durable
    /// and renames it into the store (<see cref="Complete"/> or <see cref="Fail"/> follows).
    /// </summary>
    public void Verify(long length)
    {
        _blob.Verify(length);
        _length.TrySetResult(length);
    }

    /// <summary>The blob is verified and in the store: release the held-back bytes.</summary>
    public void Complete(long length)
    {
        StopAttaching();
        _length.TrySetResult(length);
        _blob.Complete(length);
    }

    public void Fail(UpstreamException failure)
    {
        StopAttaching();
        _length.TrySetException(failure);
        _blob.Fail(failure);
    }
}
