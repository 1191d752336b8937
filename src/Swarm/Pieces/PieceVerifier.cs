using P2PRegistry.Core.MetaInfos;

namespace P2PRegistry.Swarm.Pieces;

/// <summary>
/// Checks the SHA-1 of pieces a download completed, away from the session's receive loop: that loop runs on the
/// socket's thread (often inline socket completions), and a piece's SHA-1 there (about 0.6 s a GiB) keeps it from
/// reading the socket meanwhile. Here the check, and what the owner does next (write, the blob's running SHA-256),
/// runs on the thread pool, at most <c>workers</c> pieces at once, taken in the order handed in; at most
/// <c>capacity</c> pieces wait or are being checked and handed back. A piece past that is refused
/// (<see cref="TryEnqueue"/> returns false): the caller checks it itself (<see cref="CheckNow"/>), so a disk or CPU
/// slower than the network slows the peers over TCP instead of piling up piece buffers. The owner hears of every
/// piece exactly once (<see cref="IPieceVerifierOwner"/>); nothing is marked have or served before its check passed.
/// </summary>
internal sealed class PieceVerifier
{
    private readonly MetaInfo _metaInfo;
    private readonly IPieceVerifierOwner _owner;
    private readonly int _capacity;
    private readonly int _workers;
    private readonly Action<int>? _beforeCheck;
    private readonly Lock _lock = new();
    private readonly Queue<(int Piece, byte[] Buffer)> _queue = new();
    private int _pending;
    private int _running;
    private bool _stopped;

    /// <param name="beforeCheck">Tests only: runs before each piece's check, on the thread that checks it.</param>
    public PieceVerifier(MetaInfo metaInfo, IPieceVerifierOwner owner, int capacity, int workers, Action<int>? beforeCheck = null)
    {
        ArgumentNullException.ThrowIfNull(metaInfo);
        ArgumentNullException.ThrowIfNull(owner);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 1);
        _metaInfo = metaInfo;
        _owner = owner;
        _capacity = capacity;
        _workers = workers;
        _beforeCheck = beforeCheck;
    }

    /// <summary>Pieces handed in and not handed back yet (waiting, being checked, or with the owner).</summary>
    public int Pending
    {
        get
        {
            lock (_lock)
            {
                return _pending;
            }
        }
    }

    /// <summary>
    /// Hands a completed piece over (its buffer is the verifier's until it comes back). False when
    /// <c>capacity</c> pieces are pending: the buffer stays the caller's. Once stopped, the piece is dropped at once.
    /// </summary>
    public bool TryEnqueue(int piece, byte[] buffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        var start = false;
        var dropped = false;
        lock (_lock)
        {
            if (_stopped)
            {
                dropped = true;
            }
            else if (_pending >= _capacity)
            {
                return false;
            }
            else
            {
                _queue.Enqueue((piece, buffer));
                _pending++;
                if (_running < _workers)
                {
                    _running++;
                    start = true;
                }
            }
        }

        if (dropped)
        {
            _owner.OnPieceDropped(piece, buffer);
        }
        else if (start)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static verifier => verifier.Drain(), this, preferLocal: false);
        }

        return true;
    }

    /// <summary>Checks a piece on the calling thread (one <see cref="TryEnqueue"/> refused) and hands it back the same way.</summary>
    public void CheckNow(int piece, byte[] buffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        _owner.OnPieceChecked(piece, buffer, Matches(piece, buffer));
    }

    /// <summary>
    /// Drops the pieces not taken yet (handed back at once); the ones being checked finish and are handed back as
    /// usual; later pieces are dropped as they come.
    /// </summary>
    public void Stop()
    {
        (int Piece, byte[] Buffer)[] dropped;
        lock (_lock)
        {
            _stopped = true;
            dropped = [.. _queue];
            _queue.Clear();
            _pending -= dropped.Length;
        }

        foreach (var (piece, buffer) in dropped)
        {
            _owner.OnPieceDropped(piece, buffer);
        }
    }

    private bool Matches(int piece, byte[] buffer)
    {
        _beforeCheck?.Invoke(piece);
        var size = _metaInfo.GetPieceSize(piece);
        return buffer.Length >= size && _metaInfo.PieceHashMatches(piece, buffer.AsSpan(0, size));
    }

    private void Drain()
    {
        while (true)
        {
            (int Piece, byte[] Buffer) next;
            lock (_lock)
            {
                if (_stopped || !_queue.TryDequeue(out next))
                {
                    _running--;
                    return;
                }
            }

            try
            {
                _owner.OnPieceChecked(next.Piece, next.Buffer, Matches(next.Piece, next.Buffer));
            }
            finally
            {
                lock (_lock)
                {
                    _pending--;
                }
            }
        }
    }
}
