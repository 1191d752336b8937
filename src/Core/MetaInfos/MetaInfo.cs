using System.Buffers;
using System.Security.Cryptography;
using P2PRegistry.Core.Bencoding;
using P2PRegistry.Core.Content;

namespace P2PRegistry.Core.MetaInfos;

/// <summary>
/// The piece layout and piece hashes of one blob: a BEP 3 single-file info dictionary whose <c>name</c> is
/// the blob's digest. Its <see cref="InfoHash"/> (SHA-1 of the encoded dictionary) names the blob's swarm.
/// </summary>
/// <remarks>
/// Encoded with keys in sorted order, exactly as BEP 3 tools (e.g. mktorrent) write a single file:
/// <c>d6:lengthi&lt;L&gt;e4:name&lt;n&gt;:sha256:…12:piece lengthi&lt;P&gt;e6:pieces&lt;20·N&gt;:…e</c>.
/// </remarks>
public sealed class MetaInfo
{
    /// <summary>An info dictionary is small (20 bytes a piece); refuse anything implausible before parsing.</summary>
    public const int MaxEncodedLength = 4 * 1024 * 1024;

    // Both views share one array: the piece hashes are the tail of the encoded dictionary.
    private readonly ReadOnlyMemory<byte> _pieceHashes;
    private readonly ReadOnlyMemory<byte> _encoded;

    private MetaInfo(Digest digest, long length, int pieceLength, ReadOnlyMemory<byte> pieceHashes, ReadOnlyMemory<byte> encoded)
    {
        Digest = digest;
        Length = length;
        PieceLength = pieceLength;
        _pieceHashes = pieceHashes;
        _encoded = encoded;
        InfoHash = InfoHash.Compute(encoded.Span);
    }

    public Digest Digest { get; }

    public long Length { get; }

    public int PieceLength { get; }

    public int PieceCount => _pieceHashes.Length / InfoHash.Length;

    public InfoHash InfoHash { get; }

    /// <summary>The bencoded info dictionary: what is stored, served and hashed.</summary>
    public ReadOnlyMemory<byte> Encoded => _encoded;

    public ReadOnlySpan<byte> PieceHashes => _pieceHashes.Span;

    public ReadOnlySpan<byte> GetPieceHash(int index) => _pieceHashes.Span.Slice(index * InfoHash.Length, InfoHash.Length);

    /// <summary>True when <paramref name="bytes"/> (the whole piece) hash to piece <paramref name="index"/>'s SHA-1.</summary>
    public bool PieceHashMatches(int index, ReadOnlySpan<byte> bytes)
    {
        Span<byte> hash = stackalloc byte[SHA1.HashSizeInBytes];
        SHA1.HashData(bytes, hash);
        return hash.SequenceEqual(GetPieceHash(index));
    }

    public long GetPieceOffset(int index) => (long)index * PieceLength;

    public int GetPieceSize(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, PieceCount);
        return index == PieceCount - 1 ? (int)(Length - GetPieceOffset(index)) : PieceLength;
    }

    public static int CountPieces(long length, int pieceLength) => checked((int)((length + pieceLength - 1) / pieceLength));

    /// <summary>Builds the metainfo of a blob whose pieces have been hashed.</summary>
    public static MetaInfo Create(Digest digest, long length, int pieceLength, ReadOnlySpan<byte> pieceHashes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfLessThan(pieceLength, 1);
        if (digest.IsDefault)
        {
            throw new ArgumentException("A metainfo needs a digest.", nameof(digest));
        }

        if (pieceHashes.Length != CountPieces(length, pieceLength) * InfoHash.Length)
        {
            throw new ArgumentException($"{length} bytes in pieces of {pieceLength} need {CountPieces(length, pieceLength)} piece hashes, got {pieceHashes.Length / (double)InfoHash.Length}.", nameof(pieceHashes));
        }

        // Everything but the piece hashes fits in 256 bytes (keys, three integers, a 71-byte name), so the
        // buffer never grows and is kept as is.
        var buffer = new ArrayBufferWriter<byte>(pieceHashes.Length + 256);
        var writer = new BencodeWriter(buffer);
        writer.WriteStartDictionary();
        writer.WriteString("length"u8);
        writer.WriteInteger(length);
        writer.WriteString("name"u8);
        writer.WriteString(digest.Value);
        writer.WriteString("piece length"u8);
        writer.WriteInteger(pieceLength);
        writer.WriteString("pieces"u8);
        writer.WriteString(pieceHashes);
        writer.WriteEnd();
        var encoded = buffer.WrittenMemory;
        return new MetaInfo(digest, length, pieceLength, encoded.Slice(encoded.Length - 1 - pieceHashes.Length, pieceHashes.Length), encoded);
    }

    /// <summary>Hashes a whole blob from a stream (one read) with the piece length the rule gives its size.</summary>
    public static Task<MetaInfo> ComputeAsync(Digest digest, Stream content, long length, CancellationToken cancellationToken = default) =>
        ComputeAsync(digest, content, length, MetaInfos.PieceLength.For(length), cancellationToken);

    /// <summary>Hashes a whole blob from a stream (one read) with a given piece length.</summary>
    public static async Task<MetaInfo> ComputeAsync(Digest digest, Stream content, long length, int pieceLength, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        using var hasher = new PieceHasher(pieceLength);
        var buffer = ArrayPool<byte>.Shared.Rent(1024 * 1024);
        try
        {
            int read;
            while ((read = await content.ReadAsync(buffer.AsMemory(), cancellationToken).ConfigureAwait(false)) > 0)
            {
                hasher.Append(buffer.AsSpan(0, read));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        if (hasher.Length != length)
        {
            throw new InvalidDataException($"Expected {length} bytes for {digest}, read {hasher.Length}.");
        }

        return Create(digest, length, pieceLength, hasher.Complete());
    }

    /// <summary>
    /// Decodes and validates an info dictionary received from elsewhere: the name must be a digest, the
    /// piece length acceptable, and the piece hashes exactly cover the length.
    /// </summary>
    public static MetaInfo Decode(ReadOnlyMemory<byte> encoded)
    {
        if (encoded.Length > MaxEncodedLength)
        {
            throw new FormatException($"Info dictionary of {encoded.Length} bytes exceeds the {MaxEncodedLength}-byte limit.");
        }

        if (BencodeDecoder.Decode(encoded, maxDepth: 4, maxElements: 64) is not BencodeDictionary info)
        {
            throw new FormatException("Info dictionary is not a bencoded dictionary.");
        }

        return FromInfoDictionary(info);
    }

    /// <summary>Validates a decoded info dictionary (also the <c>info</c> of a .torrent file).</summary>
    public static MetaInfo FromInfoDictionary(BencodeDictionary info)
    {
        if (!info.TryGetInteger("length", out var length) || length < 0)
        {
            throw new FormatException("Info dictionary has no valid 'length' (only single-file metainfo is supported).");
        }

        if (!info.TryGetInteger("piece length", out var pieceLength) || !MetaInfos.PieceLength.IsAcceptable(pieceLength))
        {
            throw new FormatException("Info dictionary has no acceptable 'piece length'.");
        }

        var name = info.GetString("name")?.Text;
        if (!Digest.TryParse(name, out var digest))
        {
            throw new FormatException("Info dictionary 'name' is not a sha256 digest.");
        }

        var pieces = info.GetString("pieces")?.Value ?? throw new FormatException("Info dictionary has no 'pieces'.");

        // Counted in Int64 without the rounding addition: a hostile length (up to Int64.MaxValue) must be
        // refused as a format error, not overflow.
        var pieceCount = (length / pieceLength) + (length % pieceLength == 0 ? 0 : 1);
        if (pieceCount * InfoHash.Length != pieces.Length)
        {
            throw new FormatException($"'pieces' holds {pieces.Length} bytes; {length} bytes in pieces of {pieceLength} need {pieceCount * InfoHash.Length}.");
        }

        var created = Create(digest, length, (int)pieceLength, pieces.Span);
        if (!created.Encoded.Span.SequenceEqual(info.Raw.Span))
        {
            // Extra keys would change the info hash: refuse rather than silently join another swarm.
            throw new FormatException("Info dictionary has keys other than length, name, piece length and pieces.");
        }

        return created;
    }
}
