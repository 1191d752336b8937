using P2PRegistry.Core.Wire;

namespace P2PRegistry.Swarm;

/// <summary>Settings of the swarm engine (section <c>Swarm</c>). Validated at start: see <see cref="Validate"/>.</summary>
public sealed class SwarmOptions
{
    public const string SectionName = "Swarm";

    /// <summary>The TCP port peers connect to (BEP 3 peer port), announced to the tracker.</summary>
    public int PeerPort { get; set; } = 6881;

    public int MaxConnections { get; set; } = 200;

    public int MaxConnectionsPerSwarm { get; set; } = 50;

    /// <summary>
    /// Connections with one IP address across all swarms, inbound and dialled, at most; an inbound one over it is
    /// refused at its handshake. Keeps one address from taking <see cref="MaxConnections"/> from everyone else (200
    /// keep-alive-only sessions from one host used to lock real peers out of an origin). A real peer holds one
    /// connection per blob it pulls or seeds with us; raise it where many nodes reach this one through one NAT address.
    /// </summary>
    public int MaxConnectionsPerAddress { get; set; } = 64;

    /// <summary>
    /// Inbound connections still waiting for the peer's handshake, at most; more are closed as they are accepted.
    /// Each costs a socket and a few small objects (no receive buffer until the peer sends something), for at most
    /// <see cref="InboundHandshakeTimeout"/>.
    /// </summary>
    public int MaxPendingConnections { get; set; } = 64;

    /// <summary>
    /// Inbound connections from one IP address still waiting for the peer's handshake, at most; more are closed as
    /// they are accepted. A real node has a few handshakes at once with us (one per blob it starts; containerd pulls
    /// three layers at a time), a dozen nodes behind one address at most a dozen; one address holds at most a quarter
    /// of <see cref="MaxPendingConnections"/>.
    /// </summary>
    public int MaxPendingConnectionsPerAddress { get; set; } = 16;

    /// <summary>
    /// Peers unchoked at once per swarm (cooperative: no tit-for-tat, interested peers first come first served); a peer no
    /// longer interested keeps its slot until an interested one waits for it.
    /// </summary>
    public int UploadSlotsPerSwarm { get; set; } = 32;

    /// <summary>
    /// While an interested peer waits for an upload slot, this often the unchoked peer that took least since the last
    /// rotation gives its slot to the one that waited longest (an optimistic unchoke: nobody holds a slot idle).
    /// </summary>
    public TimeSpan UploadSlotRotation { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// When a new peer finds a connection limit full, a connected peer that never gave or took a block makes room for
    /// it (the longest connected first); failing that, one that gave or took none for at least this long.
    /// </summary>
    public TimeSpan IdlePeerEviction { get; set; } = TimeSpan.FromSeconds(10);

    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>A dialled connection: how long the peer may take to answer our handshake.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// An inbound connection: how long the peer may take, from the accept, to send its handshake (the dialler speaks
    /// first, right after its connect). Short, because until then the connection holds one of the
    /// <see cref="MaxPendingConnections"/> and proves nothing.
    /// </summary>
    public TimeSpan InboundHandshakeTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>A connection on which nothing arrived for this long is closed (BEP 3 suggests two minutes).</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(2);

    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Requests that brought no block for this long are taken back and asked of other peers.</summary>
    public TimeSpan StallTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a peer that sent a piece failing its SHA-1 is refused.</summary>
    public TimeSpan BlacklistDuration { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Announce interval while downloading: short, so new peers are found quickly.</summary>
    public TimeSpan DownloadAnnounceInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Announce interval while seeding (or the tracker's, if longer).</summary>
    public TimeSpan SeedAnnounceInterval { get; set; } = TimeSpan.FromMinutes(1);

    public TimeSpan TrackerTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// A seed whose announces fail backs off exponentially with full jitter from <see cref="SeedAnnounceInterval"/> up to
    /// this (the delay after n failures in a row is uniform in [0, min(cap, interval × 2^n)]); a success resets it.
    /// </summary>
    public TimeSpan AnnounceBackoffCap { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The same back-off for a download, from <see cref="DownloadAnnounceInterval"/> up to this: short, it needs peers.</summary>
    public TimeSpan DownloadAnnounceBackoffCap { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Announces that fall due together — the cached blobs an agent seeds at start, the blobs in back-off when the tracker
    /// answers again — are spread evenly (with jitter) over 20 ms per announce, at most this long.
    /// </summary>
    public TimeSpan AnnounceSpread { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Largest frame accepted from a peer; longer frames close the connection.</summary>
    public int MaxFrameLength { get; set; } = PeerMessageReader.DefaultMaxFrameLength;

    /// <summary>Block (request) size: 16 KiB is what standard clients accept.</summary>
    public int BlockSize { get; set; } = 16 * 1024;

    /// <summary>
    /// Bytes requested and not yet received per peer, at least (the pipeline grows with the rate). Small, because
    /// a request queued behind others waits for them: with twelve peers at 1 MiB each, a piece a streaming reader
    /// needed next waited about a second behind the pieces asked for before it.
    /// </summary>
    public int MinRequestQueueBytes { get; set; } = 256 * 1024;

    /// <summary>Bytes requested and not yet received per peer, at most.</summary>
    public int MaxRequestQueueBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>Requests a peer may have queued with us; more are dropped.</summary>
    public int MaxQueuedRequestsPerPeer { get; set; } = 2048;

    /// <summary>Download rate limit of this node in bytes per second; 0 = unlimited.</summary>
    public long IngressBytesPerSecond { get; set; }

    /// <summary>Upload rate limit of this node in bytes per second; 0 = unlimited.</summary>
    public long EgressBytesPerSecond { get; set; }

    /// <summary>Peers handed out by an announce are asked for at most this many.</summary>
    public int AnnouncePeerCount { get; set; } = 50;

    /// <summary>
    /// Downloads write and read whole pieces with direct I/O (Linux <c>O_DIRECT</c>), past the page cache, where the
    /// file system allows it (otherwise, silently, through the page cache as before). The node's page cache and
    /// dirty-page budget stay with containerd and the workloads; see <c>docs/operations.md</c>.
    /// </summary>
    public bool DirectIo { get; set; } = true;

    /// <summary>
    /// With direct I/O: bytes of the pieces a download stored or read last that stay in memory, per download, for the
    /// peers and the streaming reader that ask for them next (at least four pieces; 0 = none). 8 MiB: the peak memory of
    /// an agent's cold 1 GiB pull fell by about 35 MB from 32 MiB (perf/agent-footprint.sh), with the same pull time.
    /// </summary>
    public long HotPieceBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>
    /// Complete blobs are super-seeded to our own peers (peer id starting with <c>-PR0001-</c>): they are shown a
    /// few pieces at a time, the least copied first, instead of the full bitfield, so each copy this node sends
    /// is a distinct piece until all went out once. Standard clients still get the full bitfield. For an origin
    /// (whose uplink every download shares); off by default, so agents advertise everything they have.
    /// </summary>
    public bool SuperSeed { get; set; }

    /// <summary>
    /// This node's zone (a topology label; empty = unknown), sent to peers in the extension handshake. The agent sets it
    /// from <c>Agent:Zone</c>.
    /// </summary>
    public string Zone { get; set; } = string.Empty;

    /// <summary>
    /// With a <see cref="Zone"/>: peers of another zone (or of none) are asked only for pieces no peer of this zone that
    /// serves us holds, so each piece crosses between zones about once. Off: every peer is asked alike.
    /// </summary>
    public bool PreferLocalPeers { get; set; } = true;

    /// <summary>
    /// With <see cref="PreferLocalPeers"/>: the agents of a zone split the pieces to fetch from other zones between them
    /// (each piece is one agent's, by rendezvous hashing of the piece over their peer ids); another agent's piece is
    /// fetched across only after waiting this long for that agent's <c>have</c>, counted from when this node first could
    /// have fetched it, so a slow or dead agent never stalls the zone. Zero: no waiting (each piece may cross more than once).
    /// </summary>
    public TimeSpan CrossingWait { get; set; } = PiecePicking.PiecePicker.DefaultCrossingWait;

    /// <summary>
    /// When super-seeding: bytes of pieces shown and not yet sent, across the peers being super-seeded, shared out
    /// equally with at least two pieces each (a lone downloader gets them all). Measured with 256 KiB pieces: 2 MiB
    /// left the seed's uplink idle between reveals with 4 peers (slowest 1.13× the bound against 1.03× at 8 MiB);
    /// with 12 peers both give the minimum of two each, which keeps the peers' in-order prefixes close behind.
    /// </summary>
    public int SuperSeedRevealBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>
    /// When super-seeding: pieces sent in full to a peer that no other peer has announced yet (the peer has not passed
    /// them on), at most, before the peer is shown more; at least its current reveal limit (two pieces, growing to its
    /// share of <see cref="SuperSeedRevealBytes"/>).
    /// BEP 16's rule, widened to a window: the seed's pieces go to the peers that pass them on, instead of piling up at
    /// a peer whose flow from the seed is fast and whose uplink is not. 0 turns the rule off.
    /// </summary>
    public int SuperSeedForwardPieces { get; set; } = 4;

    /// <summary>When super-seeding: how long a piece sent to a peer (from its last block) waits for another peer to announce it, at most.</summary>
    public TimeSpan SuperSeedForwardWait { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// A download's verified pieces are made durable in batches: the data file is flushed (fsync) and then the resume
    /// file records them, once this many bytes of pieces wait (or <see cref="ResumeFlushInterval"/> passed). A crash
    /// loses at most a batch (fetched again); the resume file never names a piece that is not on the disk.
    /// </summary>
    public long ResumeFlushBytes { get; set; } = Pieces.PieceStore.DefaultFlushBytes;

    /// <summary>How long a verified piece waits for its flush at most, while pieces keep arriving (see <see cref="ResumeFlushBytes"/>).</summary>
    public TimeSpan ResumeFlushInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Complete blobs seeded from a file (<see cref="SwarmEngine.Seed"/>: an origin's stored blobs, an agent's cache)
    /// check each piece against its SHA-1 the first time it is read after the file was opened. A piece that fails is
    /// never sent: the engine stops seeding that blob and raises <see cref="SwarmEngine.SeedCorrupted"/>.
    /// </summary>
    public bool VerifySeedsOnFirstRead { get; set; } = true;

    /// <summary>One message per problem, naming the key and the value; empty when the options are usable.</summary>
    public IEnumerable<string> Validate()
    {
        if (PeerPort is < 0 or > 65535)
        {
            yield return $"{SectionName}:PeerPort must be 0…65535, got {PeerPort}.";
        }

        if (P2PRegistry.Core.Placement.TopologyLabel.Problem(Zone) is { } zoneProblem)
        {
            yield return $"{SectionName}:Zone '{Zone}' {zoneProblem}.";
        }

        if (CrossingWait < TimeSpan.Zero || CrossingWait > TimeSpan.FromMinutes(1))
        {
            yield return $"{SectionName}:CrossingWait must be 0…00:01:00, got {CrossingWait}.";
        }

        if (MaxConnections < 1)
        {
            yield return $"{SectionName}:MaxConnections must be at least 1, got {MaxConnections}.";
        }

        if (MaxConnectionsPerSwarm < 1 || MaxConnectionsPerSwarm > MaxConnections)
        {
            yield return $"{SectionName}:MaxConnectionsPerSwarm must be 1…MaxConnections ({MaxConnections}), got {MaxConnectionsPerSwarm}.";
        }

        if (MaxConnectionsPerAddress < 1)
        {
            yield return $"{SectionName}:MaxConnectionsPerAddress must be at least 1, got {MaxConnectionsPerAddress}.";
        }

        if (MaxPendingConnections < 1)
        {
            yield return $"{SectionName}:MaxPendingConnections must be at least 1, got {MaxPendingConnections}.";
        }

        if (MaxPendingConnectionsPerAddress < 1 || MaxPendingConnectionsPerAddress > MaxPendingConnections)
        {
            yield return $"{SectionName}:MaxPendingConnectionsPerAddress must be 1…MaxPendingConnections ({MaxPendingConnections}), got {MaxPendingConnectionsPerAddress}.";
        }

        if (UploadSlotsPerSwarm < 1)
        {
            yield return $"{SectionName}:UploadSlotsPerSwarm must be at least 1, got {UploadSlotsPerSwarm}.";
        }

        foreach (var (name, value) in new[]
        {
            (nameof(ConnectTimeout), ConnectTimeout), (nameof(HandshakeTimeout), HandshakeTimeout),
            (nameof(InboundHandshakeTimeout), InboundHandshakeTimeout),
            (nameof(IdleTimeout), IdleTimeout), (nameof(KeepAliveInterval), KeepAliveInterval),
            (nameof(StallTimeout), StallTimeout), (nameof(BlacklistDuration), BlacklistDuration),
            (nameof(UploadSlotRotation), UploadSlotRotation), (nameof(IdlePeerEviction), IdlePeerEviction),
            (nameof(DownloadAnnounceInterval), DownloadAnnounceInterval), (nameof(SeedAnnounceInterval), SeedAnnounceInterval),
            (nameof(TrackerTimeout), TrackerTimeout), (nameof(SuperSeedForwardWait), SuperSeedForwardWait),
            (nameof(ResumeFlushInterval), ResumeFlushInterval), (nameof(AnnounceSpread), AnnounceSpread),
        })
        {
            if (value <= TimeSpan.Zero)
            {
                yield return $"{SectionName}:{name} must be positive, got {value}.";
            }
        }

        if (KeepAliveInterval >= IdleTimeout)
        {
            yield return $"{SectionName}:KeepAliveInterval ({KeepAliveInterval}) must be shorter than IdleTimeout ({IdleTimeout}), or idle peers are dropped.";
        }

        if (AnnounceBackoffCap < SeedAnnounceInterval)
        {
            yield return $"{SectionName}:AnnounceBackoffCap ({AnnounceBackoffCap}) must be at least SeedAnnounceInterval ({SeedAnnounceInterval}).";
        }

        if (DownloadAnnounceBackoffCap < DownloadAnnounceInterval)
        {
            yield return $"{SectionName}:DownloadAnnounceBackoffCap ({DownloadAnnounceBackoffCap}) must be at least DownloadAnnounceInterval ({DownloadAnnounceInterval}).";
        }

        if (BlockSize is < 1024 or > PeerMessageReader.MaxBlockLength)
        {
            yield return $"{SectionName}:BlockSize must be 1024…{PeerMessageReader.MaxBlockLength}, got {BlockSize}.";
        }

        if (MaxFrameLength < BlockSize + 13)
        {
            yield return $"{SectionName}:MaxFrameLength must fit a block ({BlockSize + 13} bytes), got {MaxFrameLength}.";
        }

        if (MinRequestQueueBytes < BlockSize || MaxRequestQueueBytes < MinRequestQueueBytes)
        {
            yield return $"{SectionName}:MinRequestQueueBytes ({MinRequestQueueBytes}) must be at least BlockSize and at most MaxRequestQueueBytes ({MaxRequestQueueBytes}).";
        }

        if (MaxQueuedRequestsPerPeer < 1)
        {
            yield return $"{SectionName}:MaxQueuedRequestsPerPeer must be at least 1, got {MaxQueuedRequestsPerPeer}.";
        }

        if (IngressBytesPerSecond < 0 || EgressBytesPerSecond < 0)
        {
            yield return $"{SectionName}:IngressBytesPerSecond and EgressBytesPerSecond must be 0 (unlimited) or positive.";
        }

        if (SuperSeedRevealBytes < 1)
        {
            yield return $"{SectionName}:SuperSeedRevealBytes must be positive, got {SuperSeedRevealBytes}.";
        }

        if (SuperSeedForwardPieces < 0)
        {
            yield return $"{SectionName}:SuperSeedForwardPieces must be 0 (off) or positive, got {SuperSeedForwardPieces}.";
        }

        if (HotPieceBytes < 0)
        {
            yield return $"{SectionName}:HotPieceBytes must be 0 (none) or positive, got {HotPieceBytes}.";
        }

        if (ResumeFlushBytes < 1)
        {
            yield return $"{SectionName}:ResumeFlushBytes must be positive, got {ResumeFlushBytes}.";
        }

        if (AnnouncePeerCount < 1)
        {
            yield return $"{SectionName}:AnnouncePeerCount must be at least 1, got {AnnouncePeerCount}.";
        }
    }
}
