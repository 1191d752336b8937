using Microsoft.Win32.SafeHandles;
using P2PRegistry.Hosting.Storage;

namespace P2PRegistry.Swarm.Pieces;

/// <summary>
/// The data file of one blob: opened (created and preallocated for a download), written and read at explicit offsets
/// (pread/pwrite, safe from many threads at once). Where the file system allows it, the transfers a caller asks to be
/// direct go past the page cache (<see cref="DirectIo"/>), and every read does while the file is direct (a page-cache
/// read of a range being written directly can keep stale bytes); a direct transfer the file system refuses leaves
/// the file on the page cache from then on, where what was written directly stays readable.
/// </summary>
internal sealed class PieceFile : IDisposable
{
    // Aligned buffers kept for direct transfers; more are made when more transfers run at once, and freed on return.
    private const int MaxIdleAlignedBuffers = 4;

    private readonly SafeFileHandle _data;
    private readonly SafeFileHandle? _directFile;
    private readonly int _alignedBufferLength;
    private readonly Lock _lock = new();
    private readonly Stack<AlignedBuffer> _alignedBuffers = new();
    private SafeFileHandle? _direct;
    private long _bytesRead;
    private bool _disposed;

    private PieceFile(string path, SafeFileHandle data, SafeFileHandle? direct, int transferLength)
    {
        Path = path;
        _data = data;
        Length = RandomAccess.GetLength(data);
        _directFile = direct;
        _direct = direct;
        _alignedBufferLength = DirectIo.RoundUp(transferLength);
    }

    public string Path { get; }

    /// <summary>The file's length when opened (a download's file is set to the blob's length).</summary>
    public long Length { get; }

    /// <summary>True while transfers go past the page cache.</summary>
    public bool UsesDirectIo => Volatile.Read(ref _direct) is not null;

    /// <summary>Bytes read from the disk so far (a direct read counts the whole aligned range it read): what reads cost.</summary>
    internal long BytesRead => Interlocked.Read(ref _bytesRead);

    /// <summary>
    /// Opens a download's file for reading and writing: created afresh and preallocated when <paramref name="create"/>,
    /// otherwise the existing file, set to <paramref name="length"/> if it is not. With <paramref name="directIo"/> the
    /// file is also opened for direct transfers where the file system allows it; <paramref name="transferLength"/> is the
    /// usual transfer (a piece), the size of the aligned buffers kept for them.
    /// </summary>
    public static PieceFile OpenWritable(string path, long length, bool create, bool directIo, int transferLength)
    {
        SafeFileHandle data;
        try
        {
            data = File.OpenHandle(
                path,
                create ? FileMode.Create : FileMode.Open,
                FileAccess.ReadWrite,
                FileShare.Read | FileShare.Delete,
                FileOptions.None,
                preallocationSize: create ? length : 0);
        }
        catch (IOException ex) when (create && DiskFull.Is(ex, System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path)), length))
        {
            // The preallocation found no room for the blob (.NET removed the file): say so with the errno.
            throw DiskFull.NoSpace($"No space left for the {length} bytes of {path}.", ex);
        }

        try
        {
            if (RandomAccess.GetLength(data) != length)
            {
                RandomAccess.SetLength(data, length);
            }

            return new PieceFile(path, data, directIo ? DirectIo.TryOpen(path) : null, transferLength);
        }
        catch
        {
            data.Dispose();
            throw;
        }
    }

    /// <summary>Opens an existing file read-only, through the page cache (a complete blob being seeded).</summary>
    public static PieceFile OpenReadOnly(string path) =>
        new(path, File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete), direct: null, transferLength: 0);

    /// <summary>
    /// Writes <paramref name="data"/> at <paramref name="offset"/>; past the page cache when <paramref name="direct"/>,
    /// the file is direct and the transfer is aligned (a whole piece), through it otherwise.
    /// </summary>
    public void Write(long offset, ReadOnlySpan<byte> data, bool direct)
    {
        if (!direct || !TryWriteDirect(offset, data))
        {
            RandomAccess.Write(_data, data, offset);
        }
    }

    /// <summary>
    /// Reads the whole range at <paramref name="offset"/>; false on a short read (the file ends first). A direct read
    /// reads only the aligned blocks that hold the range.
    /// </summary>
    public bool ReadExactly(long offset, Span<byte> destination)
    {
        if (Volatile.Read(ref _direct) is { } direct && TryReadDirect(direct, offset, destination) is { } read)
        {
            return read;
        }

        while (!destination.IsEmpty)
        {
            var count = RandomAccess.Read(_data, destination, offset);
            if (count == 0)
            {
                return false;
            }

            Interlocked.Add(ref _bytesRead, count);
            offset += count;
            destination = destination[count..];
        }

        return true;
    }

    /// <summary>
    /// Flushes what was written to the disk (fsync of the file: the pages written through the page cache and the
    /// disk's write cache, which holds what direct writes handed it too).
    /// </summary>
    public void Flush() => RandomAccess.FlushToDisk(_data);

    /// <summary>
    /// From now on every transfer goes through the page cache (coherent with what was written directly), and the
    /// idle aligned buffers go back to the system.
    /// </summary>
    public void StopDirectIo()
    {
        // The direct handle stays open until Dispose: a transfer in flight on another thread finishes normally.
        Volatile.Write(ref _direct, null);
        lock (_lock)
        {
            DisposeIdleAlignedBuffersLocked();
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _data.Dispose();
            _directFile?.Dispose();
            DisposeIdleAlignedBuffersLocked();
        }
    }

    private bool TryWriteDirect(long offset, ReadOnlySpan<byte> data)
    {
        var direct = Volatile.Read(ref _direct);
        if (direct is null || !DirectIo.IsAligned(offset, data.Length))
        {
            return false;
        }

        var buffer = RentAligned(data.Length);
        try
        {
            var aligned = buffer.Span[..data.Length];
            data.CopyTo(aligned);
            RandomAccess.Write(direct, aligned, offset);
            return true;
        }
        catch (IOException)
        {
            // The file system took the O_DIRECT open but refuses this transfer (a block size above 4 KiB): this
            // transfer and all after it go through the page cache.
            StopDirectIo();
            return false;
        }
        finally
        {
            ReturnAligned(buffer);
        }
    }

    /// <summary>
    /// The range read directly: true when read, false on a short read, null when the file system refused (the page
    /// cache is the way from now on).
    /// </summary>
    private bool? TryReadDirect(SafeFileHandle direct, long offset, Span<byte> destination)
    {
        // A direct transfer starts and ends on the alignment: the blocks holding the range are read, no more (a block
        // request must not cost a whole piece from the disk). A read at the end of the file stops there.
        var start = offset & ~(long)(DirectIo.Alignment - 1);
        var skip = (int)(offset - start);
        var needed = skip + destination.Length;
        var buffer = RentAligned(needed);
        try
        {
            var span = buffer.Span[..DirectIo.RoundUp(needed)];
            var total = 0;
            while (total < needed)
            {
                var read = RandomAccess.Read(direct, span[total..], start + total);
                if (read == 0)
                {
                    return false;
                }

                Interlocked.Add(ref _bytesRead, read);
                total += read;
            }

            span.Slice(skip, destination.Length).CopyTo(destination);
            return true;
        }
        catch (IOException)
        {
            StopDirectIo();
            return null;
        }
        finally
        {
            ReturnAligned(buffer);
        }
    }

    private AlignedBuffer RentAligned(int length)
    {
        if (length > _alignedBufferLength)
        {
            // Longer than a piece (a caller's own range): a buffer of its own, freed on return.
            return new AlignedBuffer(length);
        }

        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_alignedBuffers.TryPop(out var buffer))
            {
                return buffer;
            }
        }

        return new AlignedBuffer(_alignedBufferLength);
    }

    private void ReturnAligned(AlignedBuffer buffer)
    {
        lock (_lock)
        {
            if (!_disposed && buffer.Length == _alignedBufferLength && Volatile.Read(ref _direct) is not null && _alignedBuffers.Count < MaxIdleAlignedBuffers)
            {
                _alignedBuffers.Push(buffer);
                return;
            }
        }

        buffer.Dispose();
    }

    private void DisposeIdleAlignedBuffersLocked()
    {
        while (_alignedBuffers.TryPop(out var buffer))
        {
            buffer.Dispose();
        }
    }
}
