using System.Buffers;
using System.Security.Cryptography;
using P2PRegistry.Core.Content;
using P2PRegistry.Core.MetaInfos;

namespace P2PRegistry.Origin.Uploads;

/// <summary>
/// One blob upload in progress: a temp file written at explicit offsets, with its SHA-256 and piece
/// hashes advanced as bytes arrive, so finishing needs no second read. Lives in memory only: a restarted
/// origin has no sessions (their partial files are wiped at start).
/// </summary>
internal sealed class UploadSession : IDisposable
{
    /// <summary>Read size: large enough that a disk write and a hash call cost little per byte.</summary>
    private const int BufferSize = 1024 * 1024;

    private readonly IncrementalHash _sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private PieceHasher? _pieces;
    private int _busy;
    private bool _disposed;

    /// <summary>Marks the reservation released: nothing can be reserved for the session afterwards.</summary>
    private const long ReservationReleased = long.MinValue;

    /// <summary>Bytes reserved under the in-flight limit (see <see cref="UploadManager.TryReserve"/>), or <see cref="ReservationReleased"/>.</summary>
    private long _reserved;

    public UploadSession(string id, string repository, string client, string directory, long lastActivity)
    {
        Id = id;
        Repository = repository;
        Client = client;
        Directory = directory;
        DataPath = Path.Combine(directory, "data");
        LastActivity = lastActivity;
        // The file is opened only while a request writes to it: an idle session (a client that POSTed and
        // vanished) holds no file descriptor until it expires.
        File.OpenHandle(DataPath, FileMode.CreateNew, FileAccess.Write).Dispose();
    }

    public string Id { get; }

    public string Repository { get; }

    /// <summary>The client address that opened the session (its per-client limit counts it).</summary>
    public string Client { get; }

    /// <summary>Bytes reserved for this session under the in-flight limit (0 once released).</summary>
    public long Reserved => Math.Max(0, Interlocked.Read(ref _reserved));

    /// <summary>Records <paramref name="count"/> more reserved bytes; false once the reservation was released (the session ended).</summary>
    public bool TryAddReserved(long count)
    {
        while (true)
        {
            var current = Interlocked.Read(ref _reserved);
            if (current == ReservationReleased)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _reserved, current + count, current) == current)
            {
                return true;
            }
        }
    }

    /// <summary>Ends the reservation and returns the bytes it held (once: later calls return 0).</summary>
    public long ReleaseReserved()
    {
        var reserved = Interlocked.Exchange(ref _reserved, ReservationReleased);
        return reserved == ReservationReleased ? 0 : reserved;
    }

    public string Directory { get; }

    public string DataPath { get; }

    /// <summary>Bytes received, written and hashed so far.</summary>
    public long Length { get; private set; }

    /// <summary>Timestamp (<see cref="TimeProvider.GetTimestamp"/>) of the last request on this session.</summary>
    public long LastActivity { get; set; }

    public bool IsBusy => Volatile.Read(ref _busy) != 0;

    /// <summary>One request at a time: a second concurrent request on the same session is refused.</summary>
    public bool TryEnter() => Interlocked.CompareExchange(ref _busy, 1, 0) == 0;

    public void Exit() => Volatile.Write(ref _busy, 0);

    /// <summary>
    /// Appends a request body. <paramref name="expectedLength"/> (the Content-Length, when known) chooses
    /// the piece length when the upload starts with it, so that a whole-blob PATCH or a monolithic PUT gets
    /// its metainfo without re-reading the file.
    /// </summary>
    public async Task<long> AppendAsync(Stream body, long? expectedLength, long maxLength, Func<int, bool> tryReserve, Action<long> received, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var handle = File.OpenHandle(DataPath, FileMode.Open, FileAccess.Write, FileShare.Read);
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        long total = 0;
        try
        {
            while (true)
            {
                var read = await body.ReadAtLeastAsync(buffer.AsMemory(0, BufferSize), BufferSize, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    return total;
                }

                if (Length + read > maxLength)
                {
                    throw new UploadTooLargeException(maxLength);
                }

                // Reserved before the write: the disk never holds more unfinished upload bytes than the limit.
                if (Length + read > Reserved && !tryReserve((int)(Length + read - Reserved)))
                {
                    throw new UploadLimitException($"unfinished uploads hold as many bytes as allowed (Origin:MaxUploadBytesInFlight); {Length} bytes of this one are kept, resume later");
                }

                if (_pieces is null && Length == 0)
                {
                    _pieces = new PieceHasher(expectedLength is > 0 ? PieceLength.For(expectedLength.Value) : PieceLength.Min);
                }

                var chunk = buffer.AsSpan(0, read);
                RandomAccess.Write(handle, chunk, Length);
                _sha256.AppendData(chunk);
                _pieces?.Append(chunk);
                Length += read;
                total += read;
                received(read);
                if (read < BufferSize)
                {
                    // A short read means the body ended (ReadAtLeast only stops early at the end).
                    return total;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The SHA-256 of everything appended; the session cannot be appended to afterwards.</summary>
    public Digest FinishDigest()
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        _sha256.GetHashAndReset(hash);
        return Digest.FromSha256(hash);
    }

    /// <summary>
    /// The piece hashes gathered while streaming, if their piece length is the one the final length calls
    /// for (else null: the caller re-reads the file once).
    /// </summary>
    public MetaInfo? TryFinishMetaInfo(Digest digest)
    {
        var pieceLength = PieceLength.For(Length);
        if (_pieces is null)
        {
            return Length == 0 ? MetaInfo.Create(digest, 0, pieceLength, []) : null;
        }

        if (_pieces.PieceLength != pieceLength || _pieces.Length != Length)
        {
            return null;
        }

        return MetaInfo.Create(digest, Length, pieceLength, _pieces.Complete());
    }

    /// <summary>Makes the data durable (fsync) before it may be renamed under its digest.</summary>
    public void Flush()
    {
        using var handle = File.OpenHandle(DataPath, FileMode.Open, FileAccess.Write, FileShare.Read);
        RandomAccess.FlushToDisk(handle);
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _sha256.Dispose();
        _pieces?.Dispose();
    }
}

internal sealed class UploadTooLargeException(long maxLength)
    : Exception($"Upload exceeds the {maxLength}-byte limit.")
{
    public long MaxLength { get; } = maxLength;
}
