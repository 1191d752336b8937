using System.Buffers;
using Microsoft.Win32.SafeHandles;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Core.Pieces;

namespace P2PRegistry.Swarm.Pieces;

/// <summary>
/// The bytes of one blob on disk: one file, preallocated to the blob's length, pieces written at their
/// offsets once verified, read at offsets to seed. A download keeps a small bitfield file beside the data
/// (<c>&lt;path&gt;.pieces</c>) naming the verified pieces, so a restarted agent resumes where it stopped.
/// Reads and writes are positional (pread/pwrite) and safe from many sessions at once.
/// </summary>
/// <remarks>
/// Where the file system allows, a download's whole pieces are written and read with direct I/O
/// (<see cref="DirectIo"/>), and the pieces stored or read last stay in memory (<see cref="HotPieces"/>) for the
/// peers and the streaming reader that want them next. While a download writes directly, nothing may read its file
/// through the page cache (a cached read of a range being written directly can keep stale bytes): every read goes
/// through this store. Once the download is complete the file is an ordinary file again.
/// </remarks>
internal sealed class PieceStore : IDisposable
{
    public const string BitfieldSuffix = ".pieces";

    // <magic "P2PB"><version u8><info hash: 20 bytes><bitfield: ceil(n/8) bytes>
    private const int HeaderLength = 4 + 1 + InfoHash.Length;
    private const byte Version = 1;
    private static ReadOnlySpan<byte> Magic => "P2PB"u8;

    // Aligned buffers kept for direct transfers; more are made when more transfers run at once, and freed on return.
    private const int MaxIdleAlignedBuffers = 4;

    private readonly SafeFileHandle _data;
    private readonly Bitfield _verified;
    private readonly Lock _lock = new();
    private readonly SafeFileHandle? _directFile;
    private readonly HotPieces? _hot;
    private readonly Stack<AlignedBuffer> _alignedBuffers = new();
    private SafeFileHandle? _bitfieldFile;
    private SafeFileHandle? _direct;
    private bool _disposed;

    private PieceStore(MetaInfo metaInfo, string path, SafeFileHandle data, Bitfield verified, SafeFileHandle? bitfieldFile, SafeFileHandle? direct = null, int hotPieces = 0)
    {
        MetaInfo = metaInfo;
        Path = path;
        _data = data;
        _verified = verified;
        _bitfieldFile = bitfieldFile;
        _directFile = direct;
        _direct = direct;
        _hot = direct is not null && hotPieces > 0 ? new HotPieces(hotPieces) : null;
    }

    public MetaInfo MetaInfo { get; }

    public string Path { get; }

    public string BitfieldPath => Path + BitfieldSuffix;

    /// <summary>True when the store serves a complete file read-only (no bitfield file).</summary>
    public bool IsReadOnly => _bitfieldFile is null;

    /// <summary>True while whole pieces are written and read with direct I/O.</summary>
    public bool UsesDirectIo => Volatile.Read(ref _direct) is not null;

    /// <summary>Pieces held in memory now (0 without direct I/O).</summary>
    public int HotPieceCount => _hot?.Count ?? 0;

    public int VerifiedCount
    {
        get
        {
            lock (_lock)
            {
                return _verified.SetCount;
            }
        }
    }

    public bool IsComplete
    {
        get
        {
            lock (_lock)
            {
                return _verified.AllSet;
            }
        }
    }

    /// <summary>
    /// Opens (or creates) a partial blob for download. An existing bitfield file for the same info hash is
    /// trusted for the pieces it names; without one, the data file is started afresh. With
    /// <paramref name="directIo"/> whole pieces bypass the page cache where the file system allows it, and the last
    /// <paramref name="hotPieceBytes"/> bytes of pieces stored or read stay in memory (at least four pieces; 0: none).
    /// </summary>
    public static PieceStore OpenForDownload(MetaInfo metaInfo, string path, bool directIo = true, long hotPieceBytes = 32 * 1024 * 1024)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(hotPieceBytes);
        ArgumentNullException.ThrowIfNull(metaInfo);
        var verified = new Bitfield(metaInfo.PieceCount);
        var bitfieldPath = path + BitfieldSuffix;
        var resumed = File.Exists(path) && TryReadBitfield(bitfieldPath, metaInfo, verified);
        if (!resumed)
        {
            verified = new Bitfield(metaInfo.PieceCount);
        }

        SafeFileHandle? data = null;
        SafeFileHandle? bitfieldFile = null;
        try
        {
            data = File.OpenHandle(
                path,
                resumed ? FileMode.Open : FileMode.Create,
                FileAccess.ReadWrite,
                FileShare.Read | FileShare.Delete,
                FileOptions.None,
                preallocationSize: resumed ? 0 : metaInfo.Length);
            if (RandomAccess.GetLength(data) != metaInfo.Length)
            {
                RandomAccess.SetLength(data, metaInfo.Length);
            }

            bitfieldFile = File.OpenHandle(bitfieldPath, resumed ? FileMode.Open : FileMode.Create, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete);
            if (!resumed)
            {
                var header = new byte[HeaderLength + Bitfield.WireLengthFor(metaInfo.PieceCount)];
                WriteHeader(header, metaInfo.InfoHash);
                RandomAccess.Write(bitfieldFile, header, 0);
            }

            var direct = directIo ? DirectIo.TryOpen(path) : null;
            var hotPieces = hotPieceBytes == 0 ? 0 : (int)Math.Clamp(hotPieceBytes / metaInfo.PieceLength, 4, int.MaxValue);
            return new PieceStore(metaInfo, path, data, verified, bitfieldFile, direct, hotPieces);
        }
        catch
        {
            data?.Dispose();
            bitfieldFile?.Dispose();
            throw;
        }
    }

    /// <summary>Opens a complete, already verified blob read-only, to seed it (origin storage, agent cache).</summary>
    public static PieceStore OpenComplete(MetaInfo metaInfo, string path)
    {
        ArgumentNullException.ThrowIfNull(metaInfo);
        var data = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete);
        var length = RandomAccess.GetLength(data);
        if (length != metaInfo.Length)
        {
            data.Dispose();
            throw new InvalidDataException($"{path} holds {length} bytes; the metainfo of {metaInfo.Digest} says {metaInfo.Length}.");
        }

        var verified = new Bitfield(metaInfo.PieceCount);
        verified.SetAll();
        return new PieceStore(metaInfo, path, data, verified, bitfieldFile: null);
    }

    public bool HasPiece(int index)
    {
        lock (_lock)
        {
            return _verified[index];
        }
    }

    /// <summary>The first piece at or after <paramref name="piece"/> that is not verified, or -1 when all are.</summary>
    public int FirstMissing(int piece)
    {
        lock (_lock)
        {
            return _verified.FirstClear(piece);
        }
    }

    /// <summary>A snapshot of the verified pieces in BEP 3 bitfield layout.</summary>
    public byte[] GetBitfield()
    {
        lock (_lock)
        {
            return _verified.ToArray();
        }
    }

    /// <summary>Writes bytes of a piece at their offset (a whole verified piece, or blocks of one).</summary>
    public void Write(int piece, int offsetInPiece, ReadOnlySpan<byte> data)
    {
        CheckRange(piece, offsetInPiece, data.Length);
        if (IsReadOnly)
        {
            throw new InvalidOperationException("A complete blob is read-only.");
        }

        var offset = MetaInfo.GetPieceOffset(piece) + offsetInPiece;
        if (offsetInPiece != 0 || data.Length != MetaInfo.GetPieceSize(piece) || !TryWriteDirect(offset, data))
        {
            RandomAccess.Write(_data, data, offset);
        }
    }

    /// <summary>
    /// Hands a whole piece's buffer (rented from the shared pool, written already) to the store, which keeps it in
    /// memory for the next reads while it uses direct I/O, or returns it to the pool.
    /// </summary>
    public void Keep(int piece, byte[] buffer)
    {
        if (_hot is null)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            return;
        }

        _hot.Keep(piece, buffer);
    }

    /// <summary>Frees the pieces kept in memory (a complete download nobody is fetching from): reads refill them.</summary>
    public void ReleaseHotPieces() => _hot?.Clear();

    /// <summary>
    /// Records a piece as verified, in memory and in the bitfield file (one byte rewritten in place).
    /// Returns false when it already was.
    /// </summary>
    public bool MarkVerified(int piece)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_verified.Set(piece))
            {
                return false;
            }

            if (_bitfieldFile is not null)
            {
                // Only the byte holding this piece's bit is rewritten: a one-byte pwrite cannot tear.
                var byteIndex = piece >> 3;
                Span<byte> one = [BitfieldByte(byteIndex)];
                RandomAccess.Write(_bitfieldFile, one, HeaderLength + byteIndex);
            }

            return true;
        }
    }

    /// <summary>Reads bytes of a verified piece (to seed a block, or to stream to a client).</summary>
    public int Read(int piece, int offsetInPiece, Span<byte> destination)
    {
        CheckRange(piece, offsetInPiece, destination.Length);
        return TryReadPastPageCache(piece, offsetInPiece, destination, keep: true) is { } read
            ? (read ? destination.Length : 0)
            : ReadAt(MetaInfo.GetPieceOffset(piece) + offsetInPiece, destination);
    }

    /// <summary>
    /// Reads the whole range; returns false on a short read (a truncated file). A piece read from the disk is kept
    /// hot unless <paramref name="keep"/> is false (a reader that will not come back to it, like the digest).
    /// </summary>
    public bool ReadExactly(int piece, int offsetInPiece, Span<byte> destination, bool keep = true)
    {
        CheckRange(piece, offsetInPiece, destination.Length);
        if (TryReadPastPageCache(piece, offsetInPiece, destination, keep) is { } fast)
        {
            return fast;
        }

        var offset = MetaInfo.GetPieceOffset(piece) + offsetInPiece;
        while (!destination.IsEmpty)
        {
            var read = ReadAt(offset, destination);
            if (read == 0)
            {
                return false;
            }

            offset += read;
            destination = destination[read..];
        }

        return true;
    }

    /// <summary>
    /// Called once the whole blob is verified against its digest: the bitfield file goes, the data file
    /// is from now on a complete blob.
    /// </summary>
    public void MarkComplete()
    {
        lock (_lock)
        {
            if (_bitfieldFile is null)
            {
                return;
            }

            _bitfieldFile.Dispose();
            _bitfieldFile = null;
            File.Delete(BitfieldPath);

            // Nothing is written any more: reads go through the page cache (coherent with what was written directly),
            // and the aligned buffers go back to the system. A finished download seeds on for as long as its blob is
            // cached; the pieces kept in memory are freed by the swarm once no peer wants them.
            StopDirectIo();
            DisposeIdleAlignedBuffersLocked();
        }
    }

    /// <summary>Discards a failed download: the data file and its bitfield file.</summary>
    public void Delete()
    {
        Dispose();
        File.Delete(Path);
        File.Delete(BitfieldPath);
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
            _bitfieldFile?.Dispose();
            _data.Dispose();
            _directFile?.Dispose();
            _hot?.Dispose();
            DisposeIdleAlignedBuffersLocked();
        }
    }

    private void DisposeIdleAlignedBuffersLocked()
    {
        while (_alignedBuffers.TryPop(out var buffer))
        {
            buffer.Dispose();
        }
    }

    private int ReadAt(long offset, Span<byte> destination) => RandomAccess.Read(_data, destination, offset);

    private bool TryWriteDirect(long offset, ReadOnlySpan<byte> data)
    {
        var direct = Volatile.Read(ref _direct);
        if (direct is null || !DirectIo.IsAligned(offset, data.Length))
        {
            return false;
        }

        var buffer = RentAligned();
        try
        {
            var aligned = buffer.Span[..data.Length];
            data.CopyTo(aligned);
            RandomAccess.Write(direct, aligned, offset);
            return true;
        }
        catch (IOException)
        {
            // The file system took the O_DIRECT open but refuses this transfer (a block size above 4 KiB): the piece
            // and all after it go through the page cache, which stays coherent with what was written directly.
            StopDirectIo();
            return false;
        }
        finally
        {
            ReturnAligned(buffer);
        }
    }

    /// <summary>
    /// A hot piece's bytes, or the whole piece read directly (kept hot if <paramref name="keep"/>) and the range
    /// asked for copied: true when read, false on a short read, null when this store does not use direct I/O (or
    /// stopped because the file system refused) and the page cache is the way.
    /// </summary>
    private bool? TryReadPastPageCache(int piece, int offsetInPiece, Span<byte> destination, bool keep)
    {
        if (_hot?.TryCopy(piece, offsetInPiece, destination) == true)
        {
            return true;
        }

        var direct = Volatile.Read(ref _direct);
        if (direct is null)
        {
            return null;
        }

        var size = MetaInfo.GetPieceSize(piece);
        var offset = MetaInfo.GetPieceOffset(piece);
        var buffer = RentAligned();
        try
        {
            // A short last piece is read rounded up: the read stops at the end of the file.
            var span = buffer.Span[..DirectIo.RoundUp(size)];
            var total = 0;
            while (total < size)
            {
                var read = RandomAccess.Read(direct, span[total..], offset + total);
                if (read == 0)
                {
                    return false;
                }

                total += read;
            }

            span.Slice(offsetInPiece, destination.Length).CopyTo(destination);
            if (_hot is not null && keep)
            {
                var copy = ArrayPool<byte>.Shared.Rent(size);
                span[..size].CopyTo(copy);
                _hot.Keep(piece, copy);
            }

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

    // The direct handle stays open until Dispose: a transfer in flight on another thread finishes normally.
    private void StopDirectIo() => Volatile.Write(ref _direct, null);

    private AlignedBuffer RentAligned()
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_alignedBuffers.TryPop(out var buffer))
            {
                return buffer;
            }
        }

        return new AlignedBuffer(MetaInfo.PieceLength);
    }

    private void ReturnAligned(AlignedBuffer buffer)
    {
        lock (_lock)
        {
            if (!_disposed && Volatile.Read(ref _direct) is not null && _alignedBuffers.Count < MaxIdleAlignedBuffers)
            {
                _alignedBuffers.Push(buffer);
                return;
            }
        }

        buffer.Dispose();
    }

    private void CheckRange(int piece, int offsetInPiece, int length)
    {
        var size = MetaInfo.GetPieceSize(piece);
        if (offsetInPiece < 0 || length < 0 || (long)offsetInPiece + length > size)
        {
            throw new ArgumentOutOfRangeException(nameof(offsetInPiece), $"Bytes {offsetInPiece}+{length} are outside piece {piece} of {size} bytes.");
        }
    }

    private byte BitfieldByte(int byteIndex)
    {
        var value = 0;
        var first = byteIndex * 8;
        for (var bit = 0; bit < 8 && first + bit < _verified.PieceCount; bit++)
        {
            if (_verified[first + bit])
            {
                value |= 0x80 >> bit;
            }
        }

        return (byte)value;
    }

    private static void WriteHeader(Span<byte> header, InfoHash infoHash)
    {
        Magic.CopyTo(header);
        header[4] = Version;
        infoHash.CopyTo(header.Slice(5, InfoHash.Length));
    }

    private static bool TryReadBitfield(string path, MetaInfo metaInfo, Bitfield verified)
    {
        if (!File.Exists(path))
        {
            return false;
        }

        var bytes = File.ReadAllBytes(path);
        if (bytes.Length != HeaderLength + Bitfield.WireLengthFor(metaInfo.PieceCount))
        {
            return false;
        }

        Span<byte> expected = stackalloc byte[HeaderLength];
        WriteHeader(expected, metaInfo.InfoHash);
        return bytes.AsSpan(0, HeaderLength).SequenceEqual(expected) && verified.TryReadFrom(bytes.AsMemory(HeaderLength), out _);
    }
}
