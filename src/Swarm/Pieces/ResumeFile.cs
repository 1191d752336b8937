using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Core.Pieces;

namespace P2PRegistry.Swarm.Pieces;

/// <summary>
/// A download's record of its verified pieces, beside its data file (<c>&lt;data&gt;.pieces</c>), so a restarted
/// agent resumes where it stopped. The record is replaced whole and atomically (<see cref="DurableFiles.WriteAtomically"/>:
/// temp file, fsync, rename, fsync of the folder), and only ever names pieces whose bytes were flushed to the disk
/// before it was written: after a crash it holds an earlier record or the new one, and every piece it names is on the
/// disk. A temp file a crash left half-written is never read. What is not exactly a record of this blob (a file cut
/// short, another blob's, another version's) is not trusted at all: the download starts afresh.
/// </summary>
internal sealed class ResumeFile
{
    public const string Suffix = ".pieces";

    // <magic "P2PB"><version u8><info hash: 20 bytes><bitfield: ceil(n/8) bytes, BEP 3 layout, spare bits clear>
    private const int HeaderLength = 4 + 1 + InfoHash.Length;
    private const byte Version = 1;
    private static ReadOnlySpan<byte> Magic => "P2PB"u8;

    private readonly MetaInfo _metaInfo;

    private ResumeFile(string path, MetaInfo metaInfo)
    {
        Path = path;
        _metaInfo = metaInfo;
    }

    public string Path { get; }

    /// <summary>The resume file of the data file <paramref name="dataPath"/>.</summary>
    public static string PathFor(string dataPath) => dataPath + Suffix;

    /// <summary>The temp file a record is written to before it replaces the one at <paramref name="path"/>.</summary>
    public static string TempPathFor(string path) => path + DurableFiles.TempSuffix;

    /// <summary>The length of a resume file for <paramref name="metaInfo"/>: a file of any other length is not one.</summary>
    public static long LengthFor(MetaInfo metaInfo) => HeaderLength + Bitfield.WireLengthFor(metaInfo.PieceCount);

    /// <summary>Creates (or replaces, atomically) the resume file at <paramref name="path"/>, naming no piece.</summary>
    public static ResumeFile Create(string path, MetaInfo metaInfo)
    {
        var resume = new ResumeFile(path, metaInfo);
        resume.Save(new Bitfield(metaInfo.PieceCount).ToArray());
        return resume;
    }

    /// <summary>
    /// Reads the resume file at <paramref name="path"/>: the pieces it names go into <paramref name="verified"/>. Null
    /// (and <paramref name="verified"/> empty) when there is none or it cannot be trusted: unreadable, not exactly the
    /// length <paramref name="metaInfo"/> needs, another blob's, another version, or with bits set past the last piece.
    /// A temp file beside it (a crash during a save) is ignored.
    /// </summary>
    public static ResumeFile? TryOpen(string path, MetaInfo metaInfo, Bitfield verified)
    {
        try
        {
            if (TryRead(path, metaInfo, verified))
            {
                return new ResumeFile(path, metaInfo);
            }
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            // Missing, unreadable, or not a regular file: nothing is trusted, the download starts afresh and replaces it.
        }

        verified.ClearAll();
        return null;
    }

    /// <summary>
    /// Replaces the record with <paramref name="bitfield"/> (BEP 3 layout), atomically and durably. The caller has
    /// flushed the data file after the last write of every piece it names.
    /// </summary>
    public void Save(ReadOnlySpan<byte> bitfield)
    {
        if (bitfield.Length != LengthFor(_metaInfo) - HeaderLength)
        {
            throw new ArgumentException($"A bitfield of {_metaInfo.PieceCount} pieces is {LengthFor(_metaInfo) - HeaderLength} bytes, got {bitfield.Length}.", nameof(bitfield));
        }

        var buffer = new byte[LengthFor(_metaInfo)];
        WriteHeader(buffer, _metaInfo.InfoHash);
        bitfield.CopyTo(buffer.AsSpan(HeaderLength));
        DurableFiles.WriteAtomically(Path, buffer);
    }

    /// <summary>Removes the record (the download is complete, or discarded), and a temp file a crash left.</summary>
    public void Delete()
    {
        File.Delete(Path);
        File.Delete(TempPathFor(Path));
    }

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
