namespace P2PRegistry.Swarm;

/// <summary>
/// A reader going through a download in order (a streaming response): the verified pieces from its place on, up to
/// <see cref="SwarmOptions.ReaderWindowBytes"/>, stay in memory until it has read them, so it is fed from the piece
/// buffers rather than the disk while it keeps up. Tell it where the reader is (<see cref="MoveTo"/>); dispose it when
/// the reader is done. Without direct I/O (nothing kept in memory) it does nothing.
/// </summary>
public sealed class ReaderWindow : IDisposable
{
    private readonly BlobSwarm _swarm;
    private readonly int _hold;
    private int _disposed;

    internal ReaderWindow(BlobSwarm swarm, int hold)
    {
        _swarm = swarm;
        _hold = hold;
    }

    /// <summary>The reader's next byte is at <paramref name="offset"/>: the pieces before its piece are no longer held.</summary>
    public void MoveTo(long offset)
    {
        if (_hold == 0 || Volatile.Read(ref _disposed) != 0)
        {
            return;
        }

        var meta = _swarm.MetaInfo;
        _swarm.Store.MoveHold(_hold, (int)(Math.Clamp(offset, 0, meta.Length) / meta.PieceLength));
    }

    public void Dispose()
    {
        if (_hold != 0 && Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _swarm.CloseReaderWindow(_hold);
        }
    }
}
