using Microsoft.Win32.SafeHandles;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Core.Pieces;

namespace P2PRegistry.Swarm.Pieces;

/// <summary>
/// A download's record of its verified pieces, beside its data file (<c>&lt;data&gt;.pieces</c>), so a restarted
/// agent resumes where it stopped. Written once with no piece set, then one byte per verified piece, in place: a
/// one-byte pwrite cannot tear. What a crash leaves (a file cut short, a half-written header) or another blob's file
/// is not trusted at all: the download starts afresh.
/// </summary>
internal sealed class ResumeFile : IDisposable
{
    public const string Suffix = ".pieces";

    // <magic "P2PB"><version u8><info hash: 20 bytes><bitfield: ceil(n/8) bytes, BEP 3 layout, spare bits clear>
    private const int HeaderLength = 4 + 1 + InfoHash.Length;
    private const byte Version = 1;
    private static ReadOnlySpan<byte> Magic => "P2PB"u8;

    private readonly SafeFileHandle _file;

    private ResumeFile(string path, SafeFileHandle file)
    {
        Path = path;
        _file = file;
    }

    public string Path { get; }

    /// <summary>The resume file of the data file <paramref name="dataPath"/>.</summary>
    public static string PathFor(string dataPath) => dataPath + Suffix;

    /// <summary>The length of a resume file for <paramref name="metaInfo"/>: a file of any other length is not one.</summary>
    public static long LengthFor(MetaInfo metaInfo) => HeaderLength + Bitfield.WireLengthFor(metaInfo.PieceCount);

    /// <summary>Creates (or replaces) the resume file at <paramref name="path"/>, naming no piece.</summary>
    public static ResumeFile Create(string path, MetaInfo metaInfo)
    {
        var file = File.OpenHandle(path, FileMode.Create, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete);
        try
        {
            var content = new byte[LengthFor(metaInfo)];
            WriteHeader(content, metaInfo.InfoHash);
            RandomAccess.Write(file, content, 0);
            return new ResumeFile(path, file);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Opens the resume file at <paramref name="path"/> and reads the pieces it names into <paramref name="verified"/>;
    /// null (and <paramref name="verified"/> empty) when there is none or it cannot be trusted: unreadable, not
    /// exactly the length <paramref name="metaInfo"/> needs (cut short by a crash, or longer), another blob's, another
    /// version, or with bits set past the last piece.
    /// </summary>
    public static ResumeFile? TryOpen(string path, MetaInfo metaInfo, Bitfield verified)
    {
        try
        {
            // Read and checked through a read-only handle first: the file is opened for writing only once trusted.
            if (TryRead(path, metaInfo, verified))
            {
                return new ResumeFile(path, File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete));
            }
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            // Missing, unreadable, or not a regular file: nothing is trusted, the download starts afresh and replaces it.
        }

        verified.ClearAll();
        return null;
    }

    /// <summary>Records <paramref name="piece"/>: rewrites the byte holding its bit, as <paramref name="verified"/> has it now.</summary>
    public void Save(int piece, Bitfield verified)
    {
        var byteIndex = piece >> 3;
        var value = 0;
        var first = byteIndex * 8;
        for (var bit = 0; bit < 8 && first + bit < verified.PieceCount; bit++)
        {
            if (verified[first + bit])
            {
                value |= 0x80 >> bit;
            }
        }

        Span<byte> one = [(byte)value];
        RandomAccess.Write(_file, one, HeaderLength + byteIndex);
    }

    /// <summary>Closes and removes the file (the download is complete, or discarded).</summary>
    public void Delete()
    {
        Dispose();
        File.Delete(Path);
    }

    public void Dispose() => _file.Dispose();

    private static bool TryRead(string path, MetaInfo metaInfo, Bitfield verified)
    {
        // At most one byte more than a resume file of this blob holds is read: a file of garbage is never buffered
        // whatever its size, and one of another length is refused.
        var length = (int)LengthFor(metaInfo);
        var content = new byte[length + 1];
        var total = 0;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0))
        {
            int read;
            while (total < content.Length && (read = stream.Read(content, total, content.Length - total)) > 0)
            {
                total += read;
            }
        }

        if (total != length)
        {
            return false;
        }

        Span<byte> expected = stackalloc byte[HeaderLength];
        WriteHeader(expected, metaInfo.InfoHash);
        return content.AsSpan(0, HeaderLength).SequenceEqual(expected) && verified.TryReadFrom(content.AsMemory(HeaderLength, length - HeaderLength), out _);
    }

    private static void WriteHeader(Span<byte> header, InfoHash infoHash)
    {
        Magic.CopyTo(header);
        header[4] = Version;
        infoHash.CopyTo(header.Slice(5, InfoHash.Length));
    }
}
