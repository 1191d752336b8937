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
internal sealed class PieceStore : IDisposable
{
    public const string BitfieldSuffix = ".pieces";

    // <magic "P2PB"><version u8><info hash: 20 bytes><bitfield: ceil(n/8) bytes>
    private const int HeaderLength = 4 + 1 + InfoHash.Length;
    private const byte Version = 1;
    private static ReadOnlySpan<byte> Magic => "P2PB"u8;

    private readonly SafeFileHandle _data;
    private readonly Bitfield _verified;
    private readonly Lock _lock = new();
    private SafeFileHandle? _bitfieldFile;
    private bool _disposed;

    private PieceStore(MetaInfo metaInfo, string path, SafeFileHandle data, Bitfield verified, SafeFileHandle? bitfieldFile)
    {
        MetaInfo = metaInfo;
        Path = path;
        _data = data;
        _verified = verified;
        _bitfieldFile = bitfieldFile;
    }

    public MetaInfo MetaInfo { get; }

    public string Path { get; }

    public string BitfieldPath => Path + BitfieldSuffix;

    /// <summary>True when the store serves a complete file read-only (no bitfield file).</summary>
    public bool IsReadOnly => _bitfieldFile is null;

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
    /// trusted for the pieces it names; without one, the data file is started afresh.
    /// </summary>
    public static PieceStore OpenForDownload(MetaInfo metaInfo, string path)
    {
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

            return new PieceStore(metaInfo, path, data, verified, bitfieldFile);
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

        RandomAccess.Write(_data, data, MetaInfo.GetPieceOffset(piece) + offsetInPiece);
    }

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
        return ReadAt(MetaInfo.GetPieceOffset(piece) + offsetInPiece, destination);
    }

    /// <summary>Reads the whole piece; returns false on a short read (a truncated file).</summary>
    public bool ReadExactly(int piece, int offsetInPiece, Span<byte> destination)
    {
        CheckRange(piece, offsetInPiece, destination.Length);
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
        }
    }

    private int ReadAt(long offset, Span<byte> destination) => RandomAccess.Read(_data, destination, offset);

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
