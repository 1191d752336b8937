using System.Buffers;
using System.Security.Cryptography;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Core.Wire;
using P2PRegistry.Swarm.PiecePicking;
using P2PRegistry.Swarm.Pieces;
using P2PRegistry.Swarm.Sessions;

namespace P2PRegistry.Swarm;

/// <summary>
/// The peers exchanging one blob, as seen from this node: the store, the picker (while downloading), the
/// sessions, and the pieces being reassembled. One lock (<see cref="Sync"/>) guards the picker and every
/// session's request state; disk reads, hashing and disk writes happen outside it.
/// </summary>
internal sealed partial class BlobSwarm : IDisposable
{
    private const int MaxQueuedPieces = 64;

    private readonly Dictionary<int, PeerSession> _sessions = [];
    private readonly Dictionary<int, byte[]> _assembly = [];
    private readonly Dictionary<int, TaskCompletionSource> _pieceWaiters = [];
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<int> _cancelScratch = [];
    private readonly long _startedAt;
    private int _nextPeerKey;
    private int _unchoked;
    private Exception? _failure;
    private int _queuedPieces;
    private bool _disposed;

    public BlobSwarm(SwarmContext context, PieceStore store, bool download)
    {
        Context = context;
        Store = store;
        MetaInfo = store.MetaInfo;
        _startedAt = context.Time.GetTimestamp();
        SuperSeeder = CreateSuperSeeder(context, MetaInfo, download);
        if (download)
        {
            _digest = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            Picker = new PiecePicker(MetaInfo.PieceCount, MetaInfo.PieceLength, MetaInfo.Length, new Random(), context.Options.BlockSize);
            for (var i = 0; i < MetaInfo.PieceCount; i++)
            {
                if (store.HasPiece(i))
                {
                    Picker.MarkHave(i);
                }
            }
        }
        else
        {
            _completion.TrySetResult();
        }
    }

    public SwarmContext Context { get; }

    public MetaInfo MetaInfo { get; }

    public InfoHash InfoHash => MetaInfo.InfoHash;

    public PieceStore Store { get; }

    /// <summary>Null when this node seeds a complete blob.</summary>
    public PiecePicker? Picker { get; }

    public Lock Sync { get; } = new();

    public SwarmStatistics Statistics { get; } = new();

    /// <summary>Completes when the whole blob is verified against its digest; faults when the download failed.</summary>
    public Task Completion => _completion.Task;

    /// <summary>True once every piece is verified and the digest checked (always, when seeding).</summary>
    public bool IsComplete => _completion.Task.IsCompletedSuccessfully;

    public bool IsDownloading => !_completion.Task.IsCompleted;

    /// <summary>True once the download failed (raised <see cref="Finished"/> before its completion faults).</summary>
    public bool HasFailed => Volatile.Read(ref _failure) is not null;

    /// <summary>
    /// Raised (outside the lock) when the download finished: after the completion succeeded, or, when it failed,
    /// just before the completion faults (so whoever awaits it finds the swarm already forgotten).
    /// </summary>
    public event Action<BlobSwarm>? Finished;

    public int SessionCount
    {
        get
        {
            lock (Sync)
            {
                return _sessions.Count;
            }
        }
    }

    public bool IsConnectedTo(PeerId peerId)
    {
        lock (Sync)
        {
            foreach (var session in _sessions.Values)
            {
                if (session.RemotePeerId == peerId)
                {
                    return true;
                }
            }

            return false;
        }
    }

    public bool IsConnectedTo(System.Net.IPEndPoint listenEndPoint)
    {
        lock (Sync)
        {
            foreach (var session in _sessions.Values)
            {
                if (listenEndPoint.Equals(session.ListenEndPoint) || listenEndPoint.Equals(session.AdvertisedEndPoint))
                {
                    return true;
                }
            }

            return false;
        }
    }

    /// <summary>Adds a session past its handshake; false when the peer is already connected (one connection per pair).</summary>
    public bool TryRegister(PeerSession session)
    {
        lock (Sync)
        {
            if (_disposed)
            {
                return false;
            }

            foreach (var other in _sessions.Values)
            {
                if (other.RemotePeerId == session.RemotePeerId)
                {
                    // Both peers dialled each other at once. Each side keeps the connection dialled by the
                    // peer with the smaller id, so both keep the same one.
                    if (!IsPreferred(session))
                    {
                        return false;
                    }

                    other.Close("replaced by a simultaneous connection");
                    break;
                }
            }

            session.Key = _nextPeerKey++;
            _sessions.Add(session.Key, session);

            // BEP 3: the bitfield is the first message after the handshake; queued under the lock so no
            // have overtakes it.
            if (TryStartSuperSeedingLocked(session))
            {
                return true;
            }

            if (Store.VerifiedCount > 0)
            {
                session.Enqueue(new Outbound(OutboundKind.Bitfield));
            }

            return true;
        }
    }

    private bool IsPreferred(PeerSession session)
    {
        var dialler = session.IsOutbound ? Context.PeerId : session.RemotePeerId;
        var acceptor = session.IsOutbound ? session.RemotePeerId : Context.PeerId;
        return string.CompareOrdinal(dialler.ToHex(), acceptor.ToHex()) < 0;
    }

    public void Unregister(PeerSession session)
    {
        lock (Sync)
        {
            if (!_sessions.Remove(session.Key))
            {
                return;
            }

            if (Picker is not null)
            {
                Picker.Release(session.Key);
                Picker.RemoveAvailability(session.PeerPieces, session.IsUnserved);
            }

            if (session.SuperSeeded)
            {
                SuperSeeder?.RemovePeer(session.Key);
            }

            if (!session.AmChoking)
            {
                _unchoked--;
                UnchokeWaitingPeer();
            }

            FillAllLocked();
            ReleaseHotPiecesIfIdleLocked();
        }
    }

    /// <summary>
    /// A complete download goes on seeding from its store: the pieces it keeps in memory serve the peers still fetching
    /// the last of them, and are freed once no peer is interested (a node seeds many blobs for a long time).
    /// </summary>
    private void ReleaseHotPiecesIfIdleLocked()
    {
        if (!IsComplete || Store.HotPieceCount == 0)
        {
            return;
        }

        foreach (var session in _sessions.Values)
        {
            if (session.PeerInterested)
            {
                return;
            }
        }

        Store.ReleaseHotPieces();
    }

    /// <summary>
    /// The peer said interested: unchoke it if an upload slot is free, or held by a peer that is not interested
    /// (cooperative, no tit-for-tat).
    /// </summary>
    public void OnInterested(PeerSession session)
    {
        lock (Sync)
        {
            session.PeerInterested = true;
            if (session.AmChoking && (_unchoked < Context.Options.UploadSlotsPerSwarm || ChokeAnUninterestedPeerLocked()))
            {
                Unchoke(session);
            }
        }
    }

    /// <summary>
    /// The peer is not interested: it keeps its slot until an interested peer needs one. Choking it at once raced with
    /// its next requests: it asks again as soon as it is shown a new piece, our choke reaches it after those requests
    /// left, it drops them (a choke discards pending requests) and asks again once unchoked, and we, having taken the
    /// first requests after the choke, send the piece twice (seen as whole duplicate pieces from the origin, 4 % of
    /// the blob with 12 Agents, once peers waited between reveals).
    /// </summary>
    public void OnNotInterested(PeerSession session)
    {
        lock (Sync)
        {
            session.PeerInterested = false;
            if (!session.AmChoking && FindWaitingPeerLocked() is { } waiting)
            {
                Choke(session);
                Unchoke(waiting);
            }

            ReleaseHotPiecesIfIdleLocked();
        }
    }

    /// <summary>An interested peer we choke: it waits for a slot (there is none free, or it would have one).</summary>
    private PeerSession? FindWaitingPeerLocked()
    {
        foreach (var session in _sessions.Values)
        {
            if (session.AmChoking && session.PeerInterested)
            {
                return session;
            }
        }

        return null;
    }

    private bool ChokeAnUninterestedPeerLocked()
    {
        foreach (var session in _sessions.Values)
        {
            if (!session.AmChoking && !session.PeerInterested)
            {
                Choke(session);
                return true;
            }
        }

        return false;
    }

    private void Choke(PeerSession session)
    {
        session.AmChoking = true;
        _unchoked--;
        session.Enqueue(new Outbound(OutboundKind.Choke));
    }

    /// <summary>Sends <c>have</c> to every peer that lacks the piece.</summary>
    private void BroadcastHaveLocked(int piece)
    {
        foreach (var session in _sessions.Values)
        {
            if (!session.PeerPieces[piece])
            {
                session.Enqueue(new Outbound(OutboundKind.Have, piece));
            }
        }
    }

    private void Unchoke(PeerSession session)
    {
        session.AmChoking = false;
        _unchoked++;
        session.Enqueue(new Outbound(OutboundKind.Unchoke));
    }

    private void UnchokeWaitingPeer()
    {
        if (_unchoked < Context.Options.UploadSlotsPerSwarm && FindWaitingPeerLocked() is { } waiting)
        {
            Unchoke(waiting);
        }
    }

    /// <summary>Asks every session to top up its request pipeline (blocks were released by another).</summary>
    public void FillAll()
    {
        lock (Sync)
        {
            FillAllLocked();
        }
    }

    internal void FillAllLockedInternal() => FillAllLocked();

    private void FillAllLocked()
    {
        foreach (var session in _sessions.Values)
        {
            session.FillRequestsLocked();
        }
    }

    /// <summary>A streaming reader needs these pieces next.</summary>
    public void Prioritize(int firstPiece, int count)
    {
        lock (Sync)
        {
            Picker?.Prioritize(firstPiece, count);
            FillAllLocked();
        }
    }

    /// <summary>Completes when the piece is verified (at once if it is); faults if the download fails first.</summary>
    public Task WaitForPieceAsync(int piece, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(piece);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(piece, MetaInfo.PieceCount);
        lock (Sync)
        {
            if (Store.HasPiece(piece))
            {
                return Task.CompletedTask;
            }

            if (_completion.Task.IsFaulted)
            {
                return _completion.Task;
            }

            if (!_pieceWaiters.TryGetValue(piece, out var waiter))
            {
                waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _pieceWaiters.Add(piece, waiter);
            }

            return waiter.Task.WaitAsync(cancellationToken);
        }
    }

    public IReadOnlyList<PeerSession> SnapshotSessions()
    {
        lock (Sync)
        {
            return [.. _sessions.Values];
        }
    }

    public void Dispose()
    {
        List<PeerSession> sessions;
        lock (Sync)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            sessions = [.. _sessions.Values];
            foreach (var buffer in _assembly.Values)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            _assembly.Clear();
        }

        foreach (var session in sessions)
        {
            session.Close("swarm stopped");
        }

        // A swarm stopped because it failed reports that failure, whichever of the two gets here first.
        var stopped = Volatile.Read(ref _failure) ?? new OperationCanceledException("The download was stopped.");
        _completion.TrySetException(stopped);
        FailWaiters(stopped);
        DisposeDigest();
        Store.Dispose();
    }

    private void FailWaiters(Exception exception)
    {
        lock (Sync)
        {
            foreach (var waiter in _pieceWaiters.Values)
            {
                waiter.TrySetException(exception);
            }

            _pieceWaiters.Clear();
        }
    }

    private static bool HashMatches(ReadOnlySpan<byte> piece, ReadOnlySpan<byte> expected)
    {
        Span<byte> hash = stackalloc byte[SHA1.HashSizeInBytes];
        SHA1.HashData(piece, hash);
        return hash.SequenceEqual(expected);
    }
}
