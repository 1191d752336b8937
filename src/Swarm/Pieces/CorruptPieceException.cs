using P2PRegistry.Core.Content;

namespace P2PRegistry.Swarm.Pieces;

/// <summary>
/// A piece of a complete blob read back from the disk did not hash to its SHA-1 in the metainfo: the file changed
/// under its digest (a bad sector, a stray write). The store that found it refuses every later read, so not one more
/// byte of it is sent. An <see cref="IOException"/>, so code that handles a failed disk read handles this too.
/// </summary>
public sealed class CorruptPieceException : IOException
{
    public CorruptPieceException(Digest digest, int piece, string path)
        : base($"Piece {piece} of {digest} in {path} does not match its SHA-1: the file is corrupt.")
    {
        Digest = digest;
        Piece = piece;
        Path = path;
    }

    /// <summary>The blob whose file is corrupt.</summary>
    public Digest Digest { get; }

    /// <summary>The first piece found not to match its SHA-1.</summary>
    public int Piece { get; }

    /// <summary>The file holding the blob.</summary>
    public string Path { get; }
}
