using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Core.Pieces;

namespace P2PRegistry.Swarm.Pieces;

/// <summary>
/// The bytes of one blob on disk, as its swarm sees them: which pieces are verified, and the reads and writes of
/// pieces. It owns the parts that do the work: the data file (<see cref="PieceFile"/>: preallocated, positional
/// reads and writes safe from many sessions at once, direct I/O where allowed), a download's resume file
/// (<see cref="ResumeFile"/>, <c>&lt;path&gt;.pieces</c>, so a restarted agent resumes where it stopped), the pieces
/// kept in memory (<see cref="HotPieces"/>) and, for a complete blob opened to seed, the check of each piece on its
/// first read (<see cref="FirstReadVerifier"/>).
/// </summary>
/// <remarks>
/// Durability: a piece is recorded in the resume file only after the data file was flushed (fsync) behind it. The
/// flushes are batched — one when <c>flushBytes</c> of verified pieces wait, or <c>flushInterval</c> after the first of
/// them, and one when the store closes — so a crash loses at most a batch of pieces (fetched again), never records a
/// piece that is not on the disk. A resumed download checks every piece its record names against its SHA-1 before
/// trusting it (a byte that rotted on disk, or a disk that lost what it had acknowledged).
///
/// While a download writes directly, nothing may read its file through the page cache (a cached read of a range
/// being written directly can keep stale bytes): every read goes through this store. Once the download is complete
/// the file is an ordinary file again.
/// </remarks>
internal sealed class PieceStore : IDisposable
{
    public const string BitfieldSuffix = ResumeFile.Suffix;

    private readonly PieceFile _file;
    private readonly Bitfield _verified;
    private readonly Lock _lock = new();
    private readonly HotPieces? _hot;
    private readonly FirstReadVerifier? _firstRead;

    // Held by a flush (fsync, then the record) and by whatever ends the record (complete, delete, close), so a record
    // is never written after the download was completed or discarded. Taken before _lock, never inside it.
    private readonly Lock _flushLock = new();
    private readonly long _flushBytes;
    private readonly TimeSpan _flushInterval;
    private readonly TimeProvider _time;
    private ResumeFile? _resume;
    private bool _disposed;

    // Under _lock: bytes of pieces verified since the last flush, and when the first of them was.
    private long _unflushedBytes;
    private long _unflushedSince;
    private int _flushCount;

    private PieceStore(MetaInfo metaInfo, PieceFile file, Bitfield verified, ResumeFile? resume, int hotPieces, FirstReadVerifier? firstRead, long flushBytes = 0, TimeSpan flushInterval = default, TimeProvider? time = null)
    {
        MetaInfo = metaInfo;
        _file = file;
        _verified = verified;
        _resume = resume;
        _hot = file.UsesDirectIo && hotPieces > 0 ? new HotPieces(hotPieces) : null;
        _firstRead = firstRead;
        _flushBytes = flushBytes;
        _flushInterval = flushInterval;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Default of <c>flushBytes</c>: verified bytes that wait for one flush at most.</summary>
    public const long DefaultFlushBytes = 64L * 1024 * 1024;

    /// <summary>Default of <c>flushInterval</c>: how long a verified piece waits for its flush at most (while pieces arrive).</summary>
    public static readonly TimeSpan DefaultFlushInterval = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Raised once, on the reading thread, when a piece of a store opened with <c>verifyOnFirstRead</c> fails its
    /// SHA-1 (the read that found it then throws <see cref="CorruptPieceException"/>, as every later read does).
    /// </summary>
    public event Action<int>? Corrupted;

    public MetaInfo MetaInfo { get; }

    public string Path => _file.Path;

    public string BitfieldPath => ResumeFile.PathFor(Path);

    /// <summary>True when the store serves a complete file read-only (no resume file).</summary>
    public bool IsReadOnly => Volatile.Read(ref _resume) is null;

    /// <summary>True while whole pieces are written and read with direct I/O.</summary>
    public bool UsesDirectIo => _file.UsesDirectIo;

    /// <summary>Pieces held in memory now (0 without direct I/O).</summary>
    public int HotPieceCount => _hot?.Count ?? 0;

    /// <summary>True when each piece is checked against its SHA-1 on its first read (a complete blob opened to seed).</summary>
    public bool VerifiesOnFirstRead => _firstRead is not null;

    /// <summary>True once a piece failed its first-read check: every read throws <see cref="CorruptPieceException"/>.</summary>
    public bool IsCorrupt => _firstRead?.IsCorrupt == true;

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

    /// <summary>Bytes read from the disk so far (for tests: what a read cost).</summary>
    internal long BytesReadFromDisk => _file.BytesRead;

    /// <summary>Pieces checked on their first read and found intact (for tests).</summary>
    internal int FirstReadVerifiedCount => _firstRead?.VerifiedCount ?? 0;

    /// <summary>Pieces the resume file named when the download was opened (before they were checked).</summary>
    public int ResumedPieces { get; private init; }

    /// <summary>Pieces the resume file named that failed their SHA-1 when the download was opened: fetched again.</summary>
    public int ResumedPiecesDiscarded { get; private init; }

    /// <summary>Flushes done (data file fsynced, then the record replaced): for tests and benchmarks.</summary>
    internal int FlushCount => Volatile.Read(ref _flushCount);

    /// <summary>True when verified pieces wait for a flush long enough, or in number enough, for <see cref="Flush"/> to run.</summary>
    public bool FlushDue
    {
        get
        {
            lock (_lock)
            {
                return _unflushedBytes > 0 && (_unflushedBytes >= _flushBytes || _time.GetElapsedTime(_unflushedSince) >= _flushInterval);
            }
        }
    }

    /// <summary>
    /// Opens (or creates) a partial blob for download. A resume file for the same info hash, beside a data file of the
    /// blob's length, is trusted for the pieces it names; otherwise the data file is started afresh. With
    /// <paramref name="directIo"/> whole pieces bypass the page cache where the file system allows it, and the last
    /// <paramref name="hotPieceBytes"/> bytes of pieces stored or read stay in memory (at least four pieces; 0: none).
    /// </summary>
    public static PieceStore OpenForDownload(MetaInfo metaInfo, string path, bool directIo = true, long hotPieceBytes = 8 * 1024 * 1024, long flushBytes = DefaultFlushBytes, TimeSpan? flushInterval = null, TimeProvider? time = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(hotPieceBytes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(flushBytes);
        ArgumentNullException.ThrowIfNull(metaInfo);
        var verified = new Bitfield(metaInfo.PieceCount);
        var resumePath = ResumeFile.PathFor(path);

        var resume = File.Exists(path) ? ResumeFile.TryOpen(resumePath, metaInfo, verified) : null;
        if (resume is not null && new FileInfo(path).Length != metaInfo.Length)
        {
            // A data file of another length than the blob's was not left by this store (it preallocates): a piece the
            // resume file names may lie past its end, and nothing in it is trusted.
            resume = null;
            verified = new Bitfield(metaInfo.PieceCount);
        }

        PieceFile? file = null;
        var fresh = resume is null;
        try
        {
            // A fresh start replaces the record before the data file is cut: a crash in between never leaves an old
            // record beside a new data file.
            resume ??= ResumeFile.Create(resumePath, metaInfo);
            file = PieceFile.OpenWritable(path, metaInfo.Length, create: fresh, directIo, metaInfo.PieceLength);
            var resumed = verified.SetCount;
            var discarded = resumed > 0 ? RecheckResumed(metaInfo, file, verified) : 0;
            if (discarded > 0)
            {
                resume.Save(verified.ToArray());
            }

            var hotPieces = hotPieceBytes == 0 ? 0 : (int)Math.Clamp(hotPieceBytes / metaInfo.PieceLength, 4, int.MaxValue);
            return new PieceStore(metaInfo, file, verified, resume, hotPieces, firstRead: null, flushBytes, flushInterval ?? DefaultFlushInterval, time)
            {
                ResumedPieces = resumed,
                ResumedPiecesDiscarded = discarded,
            };
        }
        catch
        {
            file?.Dispose();
            if (fresh)
            {
                // Nothing was there to resume, and nothing of this attempt is worth keeping (a preallocation the disk
                // had no room for, most often): no record or data file of it stays behind, on a full disk least of all.
                DurableFiles.TryDelete(resumePath);
                DurableFiles.TryDelete(ResumeFile.TempPathFor(resumePath));
                DurableFiles.TryDelete(path);
            }

            throw;
        }
    }

    /// <summary>
    /// Reads back every piece the record named and checks its SHA-1; a piece that fails is no longer verified (it is
    /// fetched again). Returns how many failed.
    /// </summary>
    private static int RecheckResumed(MetaInfo metaInfo, PieceFile file, Bitfield verified)
    {
        var discarded = 0;
        var buffer = PieceBuffers.Rent(metaInfo.PieceLength);
        try
        {
            for (var piece = 0; piece < metaInfo.PieceCount; piece++)
            {
                if (!verified[piece])
                {
                    continue;
                }

                var bytes = buffer.AsSpan(0, metaInfo.GetPieceSize(piece));
                if (!file.ReadExactly(metaInfo.GetPieceOffset(piece), bytes) || !metaInfo.PieceHashMatches(piece, bytes))
                {
                    verified.Clear(piece);
                    discarded++;
                }
            }
        }
        finally
        {
            PieceBuffers.Return(buffer);
        }

        return discarded;
    }

    /// <summary>
    /// Opens a complete blob read-only, to seed it (origin storage, agent cache). With
    /// <paramref name="verifyOnFirstRead"/> the first read of each piece reads the whole piece and checks its SHA-1: a
    /// piece that fails makes this read and every later one throw <see cref="CorruptPieceException"/> and raises
    /// <see cref="Corrupted"/>. Without it the file is trusted to be what its digest says.
    /// </summary>
    public static PieceStore OpenComplete(MetaInfo metaInfo, string path, bool verifyOnFirstRead = false)
    {
        ArgumentNullException.ThrowIfNull(metaInfo);
        var file = PieceFile.OpenReadOnly(path);
        if (file.Length != metaInfo.Length)
        {
            file.Dispose();
            throw new InvalidDataException($"{path} holds {file.Length} bytes; the metainfo of {metaInfo.Digest} says {metaInfo.Length}.");
        }

        var verified = new Bitfield(metaInfo.PieceCount);
        verified.SetAll();
        return new PieceStore(metaInfo, file, verified, resume: null, hotPieces: 0, verifyOnFirstRead ? new FirstReadVerifier(metaInfo, path) : null);
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

        // Only whole pieces go past the page cache: a download writes a piece once verified, in one transfer.
        var wholePiece = offsetInPiece == 0 && data.Length == MetaInfo.GetPieceSize(piece);
        _file.Write(MetaInfo.GetPieceOffset(piece) + offsetInPiece, data, direct: wholePiece);
    }

    /// <summary>
    /// Hands a whole piece's buffer (a <see cref="PieceBuffers"/> array, written already) to the store, which keeps it in
    /// memory for the next reads while it uses direct I/O, or returns it to the pool.
    /// </summary>
    public void Keep(int piece, byte[] buffer)
    {
        if (_hot is null)
        {
            PieceBuffers.Return(buffer);
            return;
        }

        _hot.Keep(piece, buffer);
    }

    /// <summary>Copies the start of a piece kept in memory into <paramref name="destination"/>; false when it is not hot (never reads the disk).</summary>
    public bool TryCopyHot(int piece, Span<byte> destination) => _hot?.TryCopy(piece, 0, destination) == true;

    /// <summary>Frees the pieces kept in memory (a complete download nobody is fetching from): reads refill them.</summary>
    public void ReleaseHotPieces() => _hot?.Clear();

    /// <summary>
    /// Records a piece (written already) as verified: in memory at once, in the resume file with the next flush
    /// (<see cref="FlushDue"/>, <see cref="Flush"/>; at the latest when the store closes). Returns false when it already was.
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

            if (_resume is not null)
            {
                if (_unflushedBytes == 0)
                {
                    _unflushedSince = _time.GetTimestamp();
                }

                _unflushedBytes += MetaInfo.GetPieceSize(piece);
            }

            return true;
        }
    }

    /// <summary>
    /// Makes the verified pieces durable: the data file is flushed (fsync), then the resume file is replaced with the
    /// pieces verified before the flush began. Returns at once (false) when another flush is running; a no-op once the
    /// download is complete or closed.
    /// </summary>
    public bool Flush()
    {
        if (!_flushLock.TryEnter())
        {
            return false;
        }

        try
        {
            return FlushLocked();
        }
        finally
        {
            _flushLock.Exit();
        }
    }

    private bool FlushLocked()
    {
        byte[] snapshot;
        ResumeFile resume;
        lock (_lock)
        {
            if (_disposed || _resume is null || _unflushedBytes == 0)
            {
                return false;
            }

            // Every piece in the snapshot was written before it was marked: the fsync below covers it.
            snapshot = _verified.ToArray();
            resume = _resume;
            _unflushedBytes = 0;
        }

        _file.Flush();
        resume.Save(snapshot);
        Interlocked.Increment(ref _flushCount);
        return true;
    }

    /// <summary>Reads bytes of a verified piece (to seed a block, or to stream to a client): all of them, or 0 on a short read.</summary>
    /// <exception cref="CorruptPieceException">The store verifies on first read and the blob is corrupt.</exception>
    public int Read(int piece, int offsetInPiece, Span<byte> destination) =>
        ReadExactly(piece, offsetInPiece, destination) ? destination.Length : 0;

    /// <summary>
    /// Reads the whole range; returns false on a short read (a truncated file). A range that is not hot is read from
    /// the disk alone (with direct I/O: the aligned blocks holding it); a whole piece read so is kept hot unless
    /// <paramref name="keep"/> is false (a reader that will not come back to it, like the digest).
    /// </summary>
    /// <exception cref="CorruptPieceException">The store verifies on first read and the blob is corrupt.</exception>
    public bool ReadExactly(int piece, int offsetInPiece, Span<byte> destination, bool keep = true)
    {
        CheckRange(piece, offsetInPiece, destination.Length);
        if (_firstRead is { } firstRead)
        {
            firstRead.ThrowIfCorrupt();
            if (!firstRead.IsVerified(piece))
            {
                return ReadVerifying(firstRead, piece, offsetInPiece, destination);
            }
        }

        if (_hot?.TryCopy(piece, offsetInPiece, destination) == true)
        {
            return true;
        }

        if (!_file.ReadExactly(MetaInfo.GetPieceOffset(piece) + offsetInPiece, destination))
        {
            return false;
        }

        // Only a whole piece is kept: a block request must not hold a piece in memory, nor cost one from the disk.
        var size = MetaInfo.GetPieceSize(piece);
        if (keep && _hot is not null && offsetInPiece == 0 && destination.Length == size && _file.UsesDirectIo)
        {
            var copy = PieceBuffers.Rent(size);
            destination.CopyTo(copy);
            _hot.Keep(piece, copy);
        }

        return true;
    }

    /// <summary>
    /// Called once the whole blob is verified against its digest: the resume file goes, the data file
    /// is from now on a complete blob.
    /// </summary>
    public void MarkComplete()
    {
        lock (_flushLock)
        {
            MarkCompleteLocked();
        }
    }

    private void MarkCompleteLocked()
    {
        lock (_lock)
        {
            if (_resume is null)
            {
                return;
            }

            _resume.Delete();
            Volatile.Write(ref _resume, null);
            _unflushedBytes = 0;

            // Nothing is written any more: reads go through the page cache (coherent with what was written directly),
            // and the aligned buffers go back to the system. A finished download seeds on for as long as its blob is
            // cached; the pieces kept in memory are freed by the swarm once no peer wants them.
            _file.StopDirectIo();
        }
    }

    /// <summary>Discards a failed download: the data file and its resume file.</summary>
    public void Delete()
    {
        Close(flush: false);
        File.Delete(Path);
        File.Delete(BitfieldPath);
        File.Delete(ResumeFile.TempPathFor(BitfieldPath));
    }

    /// <summary>Closes the files; a download's verified pieces not yet recorded are flushed and recorded first.</summary>
    public void Dispose() => Close(flush: true);

    private void Close(bool flush)
    {
        lock (_flushLock)
        {
            if (flush)
            {
                try
                {
                    FlushLocked();
                }
                catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
                {
                    // The record keeps what the last flush wrote: those pieces are fetched again, nothing is lost.
                }
            }

            lock (_lock)
            {
                if (_disposed)
                {
                    return;
                }

                _disposed = true;
                _file.Dispose();
                _hot?.Dispose();
            }
        }
    }

    /// <summary>
    /// The first read of a piece of a blob being verified: the whole piece is read and checked, then the range asked
    /// for is copied from it (the later reads of the piece are plain reads).
    /// </summary>
    private bool ReadVerifying(FirstReadVerifier firstRead, int piece, int offsetInPiece, Span<byte> destination)
    {
        var size = MetaInfo.GetPieceSize(piece);
        var buffer = PieceBuffers.Rent(size);
        try
        {
            var bytes = buffer.AsSpan(0, size);
            if (!_file.ReadExactly(MetaInfo.GetPieceOffset(piece), bytes))
            {
                return false;
            }

            if (!firstRead.Verify(piece, bytes, out var first))
            {
                if (first)
                {
                    Corrupted?.Invoke(piece);
                }

                throw new CorruptPieceException(MetaInfo.Digest, piece, Path);
            }

            bytes.Slice(offsetInPiece, destination.Length).CopyTo(destination);
            return true;
        }
        finally
        {
            PieceBuffers.Return(buffer);
        }
    }

    private void CheckRange(int piece, int offsetInPiece, int length)
    {
        var size = MetaInfo.GetPieceSize(piece);
        if (offsetInPiece < 0 || length < 0 || (long)offsetInPiece + length > size)
        {
            throw new ArgumentOutOfRangeException(nameof(offsetInPiece), $"Bytes {offsetInPiece}+{length} are outside piece {piece} of {size} bytes.");
        }
    }
}
