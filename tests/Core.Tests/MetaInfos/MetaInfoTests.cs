using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using P2PRegistry.Core.Bencoding;
using P2PRegistry.Core.Content;
using P2PRegistry.Core.MetaInfos;

namespace P2PRegistry.Core.Tests.MetaInfos;

public class MetaInfoTests
{
    private static byte[] Content(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static byte[] OneShotPieceHashes(byte[] content, int pieceLength)
    {
        var hashes = new List<byte>();
        for (var offset = 0; offset < content.Length; offset += pieceLength)
        {
            hashes.AddRange(SHA1.HashData(content.AsSpan(offset, Math.Min(pieceLength, content.Length - offset))));
        }

        return [.. hashes];
    }

    [Fact]
    public void Create_EncodesSortedInfoDictionary_GoldenBytes()
    {
        var digest = Digest.Compute("abc"u8);
        var hashes = new byte[40];
        hashes.AsSpan().Fill(0x41);
        var meta = MetaInfo.Create(digest, 20_000, 16384, hashes);
        var expected = "d6:lengthi20000e4:name71:" + digest.Value + "12:piece lengthi16384e6:pieces40:" + new string('A', 40) + "e";
        Assert.Equal(expected, Encoding.Latin1.GetString(meta.Encoded.Span));
        Assert.Equal(new InfoHash(SHA1.HashData(Encoding.Latin1.GetBytes(expected))), meta.InfoHash);
        Assert.Equal(2, meta.PieceCount);
        Assert.Equal(16384, meta.GetPieceSize(0));
        Assert.Equal(20_000 - 16384, meta.GetPieceSize(1));
        Assert.Equal(16384L, meta.GetPieceOffset(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => meta.GetPieceSize(2));
        Assert.Throws<ArgumentOutOfRangeException>(() => meta.GetPieceSize(-1));
    }

    [Theory]
    [InlineData(0, 16384)]
    [InlineData(1, 16384)]
    [InlineData(16384, 16384)]
    [InlineData(16385, 16384)]
    [InlineData(300_001, 65536)]
    public async Task ComputeAsync_ThenDecode_RoundTrips(int length, int pieceLength)
    {
        var content = Content(length, length);
        var digest = Digest.Compute(content);
        var meta = await MetaInfo.ComputeAsync(digest, new MemoryStream(content), length, pieceLength);
        Assert.Equal(OneShotPieceHashes(content, pieceLength), meta.PieceHashes.ToArray());
        Assert.Equal(MetaInfo.CountPieces(length, pieceLength), meta.PieceCount);

        var decoded = MetaInfo.Decode(meta.Encoded.ToArray());
        Assert.Equal(meta.InfoHash, decoded.InfoHash);
        Assert.Equal(digest, decoded.Digest);
        Assert.Equal(length, decoded.Length);
        Assert.Equal(pieceLength, decoded.PieceLength);
        Assert.Equal(meta.Encoded.ToArray(), decoded.Encoded.ToArray());
        for (var i = 0; i < meta.PieceCount; i++)
        {
            Assert.Equal(meta.GetPieceHash(i).ToArray(), decoded.GetPieceHash(i).ToArray());
        }
    }

    [Fact]
    public async Task ComputeAsync_DefaultPieceLength_FollowsRule()
    {
        var content = Content(1000, 1);
        var meta = await MetaInfo.ComputeAsync(Digest.Compute(content), new MemoryStream(content), content.Length);
        Assert.Equal(PieceLength.For(content.Length), meta.PieceLength);
    }

    [Fact]
    public async Task ComputeAsync_LengthMismatch_Throws()
    {
        var content = Content(1000, 1);
        await Assert.ThrowsAsync<InvalidDataException>(() => MetaInfo.ComputeAsync(Digest.Compute(content), new MemoryStream(content), 999, 16384));
        await Assert.ThrowsAsync<InvalidDataException>(() => MetaInfo.ComputeAsync(Digest.Compute(content), new MemoryStream(content), 1001, 16384));
    }

    [Fact]
    public void Create_WrongHashCount_Throws()
    {
        var digest = Digest.Compute("x"u8);
        Assert.Throws<ArgumentException>(() => MetaInfo.Create(digest, 16385, 16384, new byte[20]));
        Assert.Throws<ArgumentException>(() => MetaInfo.Create(default, 1, 16384, new byte[20]));
    }

    private static byte[] Info(string? length, string? name, string? pieceLength, int? piecesBytes, params (string Key, string Value)[] extra)
    {
        var entries = new List<(string Key, byte[] Value)>();
        if (length is not null)
        {
            entries.Add(("length", Encoding.Latin1.GetBytes(length)));
        }

        if (name is not null)
        {
            entries.Add(("name", Encoding.Latin1.GetBytes($"{Encoding.UTF8.GetByteCount(name)}:{name}")));
        }

        if (pieceLength is not null)
        {
            entries.Add(("piece length", Encoding.Latin1.GetBytes(pieceLength)));
        }

        if (piecesBytes is { } n)
        {
            entries.Add(("pieces", [.. Encoding.Latin1.GetBytes($"{n}:"), .. new byte[n]]));
        }

        foreach (var (key, value) in extra)
        {
            entries.Add((key, Encoding.Latin1.GetBytes(value)));
        }

        var buffer = new ArrayBufferWriter<byte>();
        var w = new BencodeWriter(buffer);
        w.WriteStartDictionary();
        foreach (var (key, value) in entries.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            w.WriteString(Encoding.Latin1.GetBytes(key));
            w.WriteRaw(value);
        }

        w.WriteEnd();
        return buffer.WrittenSpan.ToArray();
    }

    private static readonly string Name = Digest.Compute("x"u8).Value;

    [Fact]
    public void Decode_ValidHandBuilt_Succeeds()
    {
        var meta = MetaInfo.Decode(Info("i16385e", Name, "i16384e", 40));
        Assert.Equal(16385, meta.Length);
        Assert.Equal(2, meta.PieceCount);
    }

    public static TheoryData<string, byte[]> InvalidInfos() => new()
    {
        { "extra key 'private'", Info("i16385e", Name, "i16384e", 40, ("private", "i1e")) },
        { "extra key 'files'", Info("i16385e", Name, "i16384e", 40, ("files", "le")) },
        { "no length", Info(null, Name, "i16384e", 40) },
        { "negative length", Info("i-1e", Name, "i16384e", 0) },
        { "length not an integer", Info("5:16385", Name, "i16384e", 40) },
        { "piece length not a power of two", Info("i16385e", Name, "i20000e", 20) },
        { "piece length too small", Info("i16385e", Name, "i8192e", 60) },
        { "piece length too large", Info("i16385e", Name, "i134217728e", 20) },
        { "piece length zero", Info("i16385e", Name, "i0e", 20) },
        { "piece length negative", Info("i16385e", Name, "i-16384e", 20) },
        { "no piece length", Info("i16385e", Name, null, 40) },
        { "pieces one hash short", Info("i16385e", Name, "i16384e", 20) },
        { "pieces one hash long", Info("i16385e", Name, "i16384e", 60) },
        { "pieces not a multiple of 20", Info("i16385e", Name, "i16384e", 39) },
        { "no pieces", Info("i16385e", Name, "i16384e", null) },
        { "huge length", Info("i9223372036854775807e", Name, "i16384e", 20) },
        { "name not a digest", Info("i16385e", "blob.tar.gz", "i16384e", 40) },
        { "name uppercase digest", Info("i16385e", Name.ToUpperInvariant(), "i16384e", 40) },
        { "name sha512", Info("i16385e", "sha512:" + new string('a', 128), "i16384e", 40) },
        { "no name", Info("i16385e", null, "i16384e", 40) },
        { "not a dictionary", "li1ee"u8.ToArray() },
        { "not bencode", "hello"u8.ToArray() },
        { "trailing bytes", [.. Info("i16385e", Name, "i16384e", 40), (byte)'x'] },
    };

    [Theory]
    [MemberData(nameof(InvalidInfos))]
    public void Decode_Invalid_ThrowsFormatException(string why, byte[] encoded)
    {
        var ex = Assert.ThrowsAny<FormatException>(() => MetaInfo.Decode(encoded));
        Assert.False(string.IsNullOrEmpty(ex.Message), why);
    }

    [Fact]
    public void Decode_TooLarge_IsRefusedBeforeParsing()
    {
        var ex = Assert.Throws<FormatException>(() => MetaInfo.Decode(new byte[MetaInfo.MaxEncodedLength + 1]));
        Assert.Contains("limit", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_UnsortedKeys_Refused()
    {
        var unsorted = Encoding.Latin1.GetBytes("d4:name71:" + Name + "6:lengthi1e12:piece lengthi16384e6:pieces20:" + new string('\0', 20) + "e");
        Assert.Throws<BencodeException>(() => MetaInfo.Decode(unsorted));
    }
}
