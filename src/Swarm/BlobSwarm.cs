using System.Net;
using System.Security.Cryptography;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Core.Pieces;
using P2PRegistry.Core.Wire;
using P2PRegistry.Swarm.Choking;
using P2PRegistry.Swarm.Peers;
using P2PRegistry.Swarm.PiecePicking;
using P2PRegistry.Swarm.Pieces;
using P2PRegistry.Swarm.Sessions;

namespace P2PRegistry.Swarm;

/// <summary>
/// The peers exchanging one blob, as seen from this node, and the one owner of everything known about them: the
/// store, the picker (while downloading), the choke policy, each peer's state (<see cref="Peer"/>) and the pieces
/// being reassembled. Sessions report to it through <see cref="IPeerSessionOwner"/>; its lock is its own. Disk reads,
/// hashing and disk writes happen outside the lock.
/// </summary>
internal sealed partial class BlobSwarm : IPeerSessionOwner, IPieceVerifierOwner, IDisposable
{
    private const int MaxQueuedPieces = 64;

    /// <summary>Pieces checked, written and hashed into the blob's SHA-256 at once: the receive loop keeps the other cores.</summary>
    private static readonly int VerifyWorkers = Math.Clamp(Environment.ProcessorCount, 1, 4);

    private readonly Lock _sync = new();
    private readonly Dictionary<int, Peer> _peers = [];
    private readonly Dictionary<int, byte[]> _assembly = [];
    private readonly Dictionary<int, TaskCompletionSource> _pieceWaiters = [];
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<int> _cancelScratch = [];
    private readonly List<ChokeChange> _chokeScratch = [];
    private readonly ChokePolicy _choking;
    private readonly PeerBlacklist _blacklist;

    /// <summary>Peers that left, remembered for a piece check still pending (pieces wait at most 64 in the verifier).</summary>
    internal const int MaxDeparted = 256;

    private readonly Dictionary<int, DepartedPeer> _departed = [];
    private readonly Queue<int> _departedOrder = new();
    private readonly long _startedAt;
    private readonly PieceVerifier? _verifier;
    private Exception? _failure;
    private bool _disposed;

    /// <param name="wantAll">False: a download of byte ranges, which fetches only the pieces asked for (<see cref="Want"/>).</param>
    public BlobSwarm(SwarmContext context, PieceStore store, bool download, bool wantAll = true)
    {
        Context = context;
        Store = store;
        MetaInfo = store.MetaInfo;
        _startedAt = context.Time.GetTimestamp();
        _choking = new ChokePolicy(context.Options.UploadSlotsPerSwarm, context.Options.UploadSlotRotation, context.Time);
        _blacklist = new PeerBlacklist(context.Time, context.Options.BlacklistDuration);
        SuperSeeder = CreateSuperSeeder(context, MetaInfo, download);
        if (download)
        {
            _digest = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            _verifier = new PieceVerifier(MetaInfo, this, MaxQueuedPieces, VerifyWorkers, context.BeforePieceCheck);
            Picker = new PiecePicker(MetaInfo.PieceCount, MetaInfo.PieceLength, MetaInfo.Length, new Random(), context.Options.BlockSize,
                context.Time, context.Options.CrossingWait);
            if (!wantAll)
            {
                Picker.WantOnly();
            }

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
    private PiecePicker? Picker { get; }

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
            lock (_sync)
            {
                return _peers.Count;
            }
        }
    }

    /// <summary>Connected peers known to hold the piece, as the picker counts them (0 when seeding): for tests.</summary>
    public int AvailabilityOf(int piece)
    {
        lock (_sync)
        {
            return Picker?.GetAvailability(piece) ?? 0;
        }
    }

    /// <summary>Addresses refused in this swarm for sending pieces that failed their hash.</summary>
    public int BlacklistedCount => _blacklist.Count;

    /// <summary>
    /// A connected peer already speaks for this tracker entry: connected to that listen address, or a session from
    /// that host claims the entry's peer id (a claim from another host does not count: anyone can claim an id).
    /// </summary>
    public bool IsConnectedTo(IPEndPoint listenEndPoint, PeerId? peerId)
    {
        lock (_sync)
        {
            foreach (var peer in _peers.Values)
            {
                var session = peer.Session;
                var address = Bandwidth.ConnectionLimiter.Normalize(listenEndPoint.Address);
                var sessionAddress = session.RemoteAddress is { } remote ? Bandwidth.ConnectionLimiter.Normalize(remote) : null;
                if ((address.Equals(sessionAddress) && listenEndPoint.Port == session.PeerEndPoint?.Port)
                    || (peerId == session.RemotePeerId && address.Equals(sessionAddress)))
                {
                    return true;
                }
            }

            return false;
        }
    }

    /// <summary>Refused in this swarm (its address sent a piece that failed its hash).</summary>
    public bool IsBlacklisted(IPEndPoint endPoint) => _blacklist.Contains(endPoint.Address, endPoint.Port);

    /// <summary>Adds a session past its handshake; false when it is refused (one connection per peer, blacklisted, stopped).</summary>
    public bool TryAttach(PeerSession session)
    {
        if (session.RemoteAddress is { } address && _blacklist.Contains(address, session.PeerEndPoint?.Port ?? 0))
        {
            session.Close("blacklisted in this swarm");
            return false;
        }

        PeerSession? replaced = null;
        try
        {
            lock (_sync)
            {
                return TryAttachLocked(session, out replaced);
            }
        }
        finally
        {
            // Outside the lock: closing a session may run its loops' ends (and so Detach) on this thread.
            replaced?.Close("replaced by a simultaneous connection");
        }
    }

    private bool TryAttachLocked(PeerSession session, out PeerSession? replaced)
    {
        replaced = null;
        if (_disposed)
        {
            return false;
        }

        var now = Context.Time.GetTimestamp();
        foreach (var other in _peers.Values)
        {
            if (other.Session.RemotePeerId != session.RemotePeerId)
            {
                continue;
            }

            // Both peers dialled each other at once: each side keeps the connection dialled by the peer with the
            // smaller id, so both keep the same one. Only then may a second session with the same id replace the
            // first: same host, moments old, nothing exchanged yet. Anyone can claim an id; a claim never evicts
            // an established session.
            var simultaneous = Equals(other.Session.RemoteAddress, session.RemoteAddress)
                && other.LastUsefulAt == other.ConnectedAt
                && Context.Time.GetElapsedTime(other.ConnectedAt, now) < Context.Options.HandshakeTimeout;
            if (!simultaneous || !IsPreferred(session))
            {
                session.Close("already connected to a peer with this id");
                return false;
            }

            replaced = other.Session;
            break;
        }

        if (replaced is not null && _peers.GetValueOrDefault(replaced.Id) is { } gone)
        {
            RemovePeerLocked(gone);
        }

        var requestDepth = Math.Max(1, Context.Options.MinRequestQueueBytes / Context.Options.BlockSize);
        var peer = new Peer(session, MetaInfo.PieceCount, requestDepth, now);
        _peers.Add(peer.Key, peer);
        _choking.Add(peer.Key);

        // BEP 3: the bitfield is the first message after the handshake; queued under the lock so no have
        // overtakes it.
        if (TryStartSuperSeedingLocked(peer))
        {
            return true;
        }

        if (Store.VerifiedCount > 0)
        {
            session.Send(new Outbound(OutboundKind.Bitfield, Payload: Store.GetBitfield()));
        }

        return true;
    }

    private bool IsPreferred(PeerSession session)
    {
        var dialler = session.IsOutbound ? Context.PeerId : session.RemotePeerId;
        var acceptor = session.IsOutbound ? session.RemotePeerId : Context.PeerId;
        return string.CompareOrdinal(dialler.ToHex(), acceptor.ToHex()) < 0;
    }

    public void Detach(PeerSession session)
    {
        lock (_sync)
        {
            if (_peers.TryGetValue(session.Id, out var peer) && peer.Session == session)
            {
                RemovePeerLocked(peer);
                FillAllLocked();
                ReleaseHotPiecesIfIdleLocked();
            }
        }
    }

    private void RemovePeerLocked(Peer peer)
    {
        if (!_peers.Remove(peer.Key))
        {
            return;
        }

        RememberDepartedLocked(peer);

        if (Picker is not null)
        {
            Picker.Release(peer.Key);
            Picker.RemoveAvailability(peer.Pieces, peer.IsUnserved, peer.IsLocal);
            if (peer.IsLocal)
            {
                UpdateCrossingShareLocked();
            }
        }

        if (peer.SuperSeeded)
        {
            SuperSeeder?.RemovePeer(peer.Key);
        }

        _choking.Remove(peer.Key, _chokeScratch);
        ApplyChokeChangesLocked();
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

        foreach (var peer in _peers.Values)
        {
            if (_choking.IsInterested(peer.Key))
            {
                return;
            }
        }

        Store.ReleaseHotPieces();
    }

    /// <summary>
    /// Sends <c>have</c> to every peer (BEP 3), those that show the piece too: a super-seeding seed shows a few pieces
    /// and reveals the next only once each shown piece was sent to us or announced by us (got elsewhere). Kept from a
    /// seed that showed it, the have would leave that seed waiting for good, and once the other sources are gone the
    /// download would stall with every piece it was shown already here (and so nothing to ask it for).
    /// A peer that said it needs no have for a piece it has (<see cref="PeerSession.RemoteLazyHave"/>, our agents) is
    /// not told about one it has: in a swarm of N such peers that is about half of the N² haves of each piece. Once the
    /// last piece is in, such a peer is sent the full bitfield (a later bitfield that only adds pieces is what our peers
    /// accept), so it knows this node is complete: two complete peers close their connection.
    /// </summary>
    private void BroadcastHaveLocked(int piece)
    {
        var complete = Picker is { IsComplete: true };
        byte[]? all = null;
        foreach (var peer in _peers.Values)
        {
            if (!peer.Session.RemoteLazyHave || !peer.Pieces[piece])
            {
                peer.Session.Send(new Outbound(OutboundKind.Have, piece));
            }

            if (complete && peer.Session.RemoteLazyHave)
            {
                all ??= FullBitfield();
                peer.Session.Send(new Outbound(OutboundKind.Bitfield, Payload: all));
            }
        }
    }

    /// <summary>
    /// Keeps what was observed of a peer that left (its address and port, at most <see cref="MaxDeparted"/> of them, the
    /// oldest forgotten first), so a piece it alone sent that fails its check after it hung up still blames it.
    /// </summary>
    private void RememberDepartedLocked(Peer peer)
    {
        if (_departed.Count >= MaxDeparted && _departedOrder.TryDequeue(out var oldest))
        {
            _departed.Remove(oldest);
        }

        if (_departed.TryAdd(peer.Key, DepartedPeer.Of(peer.Session)))
        {
            _departedOrder.Enqueue(peer.Key);
        }
    }

    private byte[] FullBitfield()
    {
        var bits = new Bitfield(MetaInfo.PieceCount);
        bits.SetAll();
        return bits.ToArray();
    }

    /// <summary>True while every piece is fetched (false for a download of byte ranges: see <see cref="Want"/>).</summary>
    public bool WantsAll
    {
        get
        {
            lock (_sync)
            {
                return Picker?.WantsAll ?? true;
            }
        }
    }

    /// <summary>
    /// A reader of a byte range needs these pieces: a download started for ranges fetches them (and only the pieces
    /// asked for so far); a whole download fetches every piece anyway.
    /// </summary>
    public void Want(int firstPiece, int count)
    {
        lock (_sync)
        {
            if (Picker is { } picker && IsDownloading && picker.Want(firstPiece, count))
            {
                OnWantedChangedLocked();
            }
        }
    }

    /// <summary>Every piece is fetched from now on (a whole-blob reader came to a download started for ranges).</summary>
    public void WantAll()
    {
        lock (_sync)
        {
            if (Picker is { } picker && IsDownloading && picker.WantAll())
            {
                OnWantedChangedLocked();
            }
        }
    }

    // Peers that hold a newly wanted piece become interesting (BEP 3 interested), then are asked for it.
    private void OnWantedChangedLocked()
    {
        foreach (var peer in _peers.Values)
        {
            UpdateInterest(peer);
        }

        FillAllLocked();
    }

    /// <summary>A streaming reader needs these pieces next.</summary>
    public void Prioritize(int firstPiece, int count)
    {
        lock (_sync)
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
        lock (_sync)
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

    /// <summary>What this swarm holds about the peer of <paramref name="session"/> (null once it is gone): for tests and diagnostics.</summary>
    public PeerView? Describe(PeerSession session)
    {
        lock (_sync)
        {
            return _peers.TryGetValue(session.Id, out var peer)
                ? new PeerView(
                    AmChoking: _choking.IsChoking(peer.Key),
                    PeerInterested: _choking.IsInterested(peer.Key),
                    AmInterested: peer.AmInterested,
                    PeerChoking: peer.PeerChoking,
                    PeerPieces: peer.Pieces.SetCount,
                    Outstanding: peer.Outstanding.Count,
                    QueuedUploads: peer.Uploads.Count,
                    RequestDepth: peer.RequestDepth,
                    SuperSeeded: peer.SuperSeeded)
                : null;
        }
    }

    public IReadOnlyList<PeerSession> SnapshotSessions()
    {
        lock (_sync)
        {
            return [.. _peers.Values.Select(static p => p.Session)];
        }
    }

    public void Dispose()
    {
        List<PeerSession> sessions;
        lock (_sync)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            sessions = [.. _peers.Values.Select(static p => p.Session)];
            foreach (var buffer in _assembly.Values)
            {
                PieceBuffers.Return(buffer);
            }

            _assembly.Clear();
        }

        // The pieces still waiting for their check go back to the pool; one being checked finds the swarm stopped.
        _verifier?.Stop();
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
        lock (_sync)
        {
            foreach (var waiter in _pieceWaiters.Values)
            {
                waiter.TrySetException(exception);
            }

            _pieceWaiters.Clear();
        }
    }
}
