namespace P2PRegistry.Agent.Blobs;

/// <summary><see cref="Count"/> consecutive pieces of a blob from <see cref="First"/>: what a byte range needs fetched.</summary>
internal readonly record struct PieceSpan(int First, int Count)
{
    /// <summary>
    /// The pieces covering bytes [<paramref name="offset"/>, <paramref name="offset"/> + <paramref name="count"/>) of a blob
    /// of <paramref name="length"/> bytes in pieces of <paramref name="pieceLength"/>, and the pieces of the
    /// <paramref name="readAhead"/> bytes after the range (never past the blob's end). No piece for an empty range.
    /// </summary>
    public static PieceSpan Cover(long length, int pieceLength, long offset, long count, long readAhead)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pieceLength);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(readAhead);
        if (count <= 0 || offset >= length)
        {
            return default;
        }

        // Each term is at most the blob's length (or the bounded read-ahead): no overflow.
        var end = Math.Min(length, offset + Math.Min(count, length - offset) + Math.Min(readAhead, length));
        var first = offset / pieceLength;
        var last = (end - 1) / pieceLength;
        return new PieceSpan((int)first, (int)(last - first + 1));
    }
}
