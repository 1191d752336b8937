using System.Diagnostics;
using System.Numerics;
using System.Security.Cryptography;
using P2PRegistry.Core.Bencoding;
using P2PRegistry.Core.Content;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Testing;
using P2PRegistry.Testing.FileSystem;

namespace P2PRegistry.Core.Tests.MetaInfos;

/// <summary>Our metainfo against one written by a tool nobody here wrote: mktorrent (Debian package).</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class MktorrentGoldenTests : IDisposable
{
    private readonly TempDirectory _dir = new("p2pr-mktorrent");

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData(3 * 1024 * 1024 + 12_345, 18)] // the default rule's 256 KiB pieces, short last piece
    [InlineData(5 * 1024 * 1024 + 1, 20)] // 1 MiB pieces, last piece one byte
    [InlineData(100_000, 15)] // 32 KiB pieces
    public async Task InfoDictionary_MatchesMktorrent_ByteForByte(int length, int log2PieceLength)
    {
        var content = new byte[length];
        new Random(length).NextBytes(content);
        var digest = Digest.Compute(content);
        var path = _dir.Combine(digest.Value); // the file is named exactly sha256:<hex>
        await File.WriteAllBytesAsync(path, content);
        var torrent = _dir.Combine("f.torrent");

        RunMktorrent("-l", log2PieceLength.ToString(System.Globalization.CultureInfo.InvariantCulture), "-a", "http://127.0.0.1:1/announce", "-o", torrent, path);

        var file = Assert.IsType<BencodeDictionary>(BencodeDecoder.Decode(await File.ReadAllBytesAsync(torrent)));
        Assert.Equal("http://127.0.0.1:1/announce", file.GetString("announce")!.Text);
        var info = file.GetDictionary("info") ?? throw new Xunit.Sdk.XunitException("no info dictionary");
        var raw = info.Raw.ToArray();

        var pieceLength = 1 << log2PieceLength;
        await using var stream = File.OpenRead(path);
        var ours = await MetaInfo.ComputeAsync(digest, stream, length, pieceLength);

        Assert.Equal(new InfoHash(SHA1.HashData(raw)), ours.InfoHash);
        Assert.Equal(raw, ours.Encoded.ToArray());
        Assert.True(ours.GetPieceSize(ours.PieceCount - 1) < pieceLength);

        // And the other way: their info dictionary passes our validation and means the same.
        var theirs = MetaInfo.FromInfoDictionary(info);
        Assert.Equal(ours.InfoHash, theirs.InfoHash);
        Assert.Equal(digest, theirs.Digest);
        Assert.Equal(length, theirs.Length);
    }

    [Fact]
    public async Task DefaultPieceLength_MatchesMktorrent()
    {
        var length = 2 * 1024 * 1024 + 777;
        var content = new byte[length];
        new Random(3).NextBytes(content);
        var digest = Digest.Compute(content);
        var path = _dir.Combine(digest.Value);
        await File.WriteAllBytesAsync(path, content);
        var torrent = _dir.Combine("d.torrent");
        var log2 = BitOperations.Log2((uint)PieceLength.For(length));
        RunMktorrent("-l", log2.ToString(System.Globalization.CultureInfo.InvariantCulture), "-a", "http://127.0.0.1:1/announce", "-o", torrent, path);

        var info = ((BencodeDictionary)BencodeDecoder.Decode(await File.ReadAllBytesAsync(torrent))).GetDictionary("info")!;
        await using var stream = File.OpenRead(path);
        var ours = await MetaInfo.ComputeAsync(digest, stream, length);
        Assert.Equal(info.Raw.ToArray(), ours.Encoded.ToArray());
    }

    private static void RunMktorrent(params string[] args)
    {
        var start = new ProcessStartInfo("mktorrent")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("mktorrent did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("mktorrent did not finish in 60 s");
        }

        Assert.True(process.ExitCode == 0, $"mktorrent exited {process.ExitCode}: {stdout.Result} {stderr.Result}");
    }
}
