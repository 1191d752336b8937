using P2PRegistry.Core.Content;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Swarm.Announcing;
using P2PRegistry.Swarm.Tracking;

namespace P2PRegistry.Swarm;

// Every blob this node announces — downloads, open seeds and closed ones — has an AnnounceTarget (a few fields) in one of
// two schedules, and one loop sends whatever is due: no task or timer per blob. Downloads have their own schedule and are
// never held back by seeds, whose announces in flight are bounded. When and how often is AnnouncePolicy's call.
public sealed partial class SwarmEngine
{
    /// <summary>Seed announces in flight at once, at most (a hanging tracker holds each for up to the tracker timeout).</summary>
    internal const int MaxSeedAnnouncesInFlight = 32;

    /// <summary>Failed announces in a row (of any blob) after which a success counts as the tracker coming back.</summary>
    internal const int OutageFailures = 3;

    private readonly Lock _announceLock = new();
    private readonly Dictionary<InfoHash, AnnounceTarget> _targets = [];
    private readonly AnnounceSchedule<AnnounceTarget> _downloadSchedule = new();
    private readonly AnnounceSchedule<AnnounceTarget> _seedSchedule = new();
    private readonly SemaphoreSlim _announceWake = new(0, 1);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Task, byte> _announcesInFlight = new();
    private AnnouncePolicy _policy = null!;
    private Task _announceLoop = Task.CompletedTask;
    private int _seedsInFlight;
    private int _failuresInARow;
    private int _announcesPending;
    private bool _announceLoopParked;

    /// <summary>Complete blobs announced as seeds, with their swarm open or closed.</summary>
    public int SeededBlobCount
    {
        get
        {
            lock (_announceLock)
            {
                return _targets.Values.Count(static t => !t.IsDownloading);
            }
        }
    }

    /// <summary>Swarms open now (downloads and seeds with their file open and their connections).</summary>
    public int OpenSwarmCount => _swarms.Count;

    /// <summary>
    /// Seeds a complete blob without opening it: the tracker is told this node has it (announced on the schedule like
    /// any seed, first within <see cref="SwarmOptions.AnnounceSpread"/>), and its swarm opens through
    /// <see cref="SeedResolver"/> when a peer handshakes for it. Costs a few fields per blob, no file and no task.
    /// </summary>
    public void SeedOnDemand(IEnumerable<(InfoHash InfoHash, Digest Digest)> blobs)
    {
        ArgumentNullException.ThrowIfNull(blobs);
        ObjectDisposedException.ThrowIf(_stopping.IsCancellationRequested, this);
        lock (_announceLock)
        {
            var now = Now();
            var added = new HashSet<AnnounceTarget>(ReferenceEqualityComparer.Instance);
            foreach (var (infoHash, digest) in blobs)
            {
                if (!_targets.ContainsKey(infoHash))
                {
                    var target = new AnnounceTarget(infoHash, digest);
                    _targets.Add(infoHash, target);
                    _seedSchedule.Schedule(target, now);
                    added.Add(target);
                }
            }

            _seedSchedule.Spread(now, _policy.SpreadWindow(added.Count, downloading: false).Ticks, added.Contains, Random.Shared.NextDouble);
        }

        WakeAnnouncer();
    }

    /// <summary>
    /// Closes the swarms of complete blobs that neither sent nor received a byte for <paramref name="idleFor"/> (as seen by
    /// the calls of this method: call it a few times per <paramref name="idleFor"/>): their connections drop and their
    /// file closes, and they stay announced as seeds; a peer's handshake reopens them through <see cref="SeedResolver"/>.
    /// Does nothing without a resolver (nothing could reopen them). Returns how many closed.
    /// </summary>
    public int CloseIdleSeeds(TimeSpan idleFor)
    {
        if (SeedResolver is null || _stopping.IsCancellationRequested)
        {
            return 0;
        }

        var now = _context.Time.GetUtcNow();
        var closed = new List<SwarmEntry>();
        foreach (var entry in _swarms.Values)
        {
            var swarm = entry.Swarm;
            if (!swarm.IsComplete)
            {
                continue;
            }

            var activity = swarm.Statistics.BytesUploaded + swarm.Statistics.BytesDownloaded;
            if (activity != entry.LastActivity)
            {
                entry.LastActivity = activity;
                entry.ActiveAt = now;
                continue;
            }

            if (now - entry.ActiveAt < idleFor)
            {
                continue;
            }

            lock (_startLock)
            {
                if (!_swarms.TryRemove(new KeyValuePair<InfoHash, SwarmEntry>(swarm.InfoHash, entry)))
                {
                    continue;
                }

                lock (_announceLock)
                {
                    if (_targets.TryGetValue(swarm.InfoHash, out var target) && target.Open == entry)
                    {
                        target.Open = null;
                    }
                }
            }

            closed.Add(entry);
        }

        foreach (var entry in closed)
        {
            // Not stopped: the blob stays seeded, only its file and connections go.
            entry.Swarm.Dispose();
            _context.Metrics.SwarmClosedIdle();
        }

        if (closed.Count > 0)
        {
            SwarmLog.IdleSwarmsClosed(_logger, closed.Count, idleFor, _swarms.Count);
        }

        return closed.Count;
    }

    private static long Now(TimeProvider time) => time.GetUtcNow().UtcTicks;

    private long Now() => Now(_context.Time);

    private void StartAnnouncing()
    {
        _policy = AnnouncePolicy.From(_context.Options);
        _context.Metrics.Observe(() => OpenSwarmCount, () => SeededBlobCount);
        _announceLoop = Task.Run(AnnounceLoopAsync);
    }

    /// <summary>The announce target of a swarm just opened: a new one announced now, or the blob's closed target reopened.</summary>
    private void AttachTarget(SwarmEntry entry)
    {
        var swarm = entry.Swarm;
        lock (_announceLock)
        {
            if (_targets.TryGetValue(swarm.InfoHash, out var target))
            {
                target.Open = entry;
                if (swarm.IsDownloading)
                {
                    // A closed seed downloaded anew (it left the cache behind the engine's back): announce as a download.
                    target.WasDownloading = true;
                    Reschedule(target, Now());
                }

                return;
            }

            target = new AnnounceTarget(swarm.InfoHash, swarm.MetaInfo.Digest) { Open = entry, WasDownloading = swarm.IsDownloading };
            _targets.Add(swarm.InfoHash, target);
            Reschedule(target, Now());
        }

        WakeAnnouncer();
    }

    /// <summary>Forgets the target of a blob no longer seeded (stopped, failed, quarantined); null when there was none.</summary>
    private AnnounceTarget? DetachTarget(InfoHash infoHash, SwarmEntry? entry)
    {
        lock (_announceLock)
        {
            if (!_targets.TryGetValue(infoHash, out var target) || (entry is not null && target.Open != entry))
            {
                return null;
            }

            _targets.Remove(infoHash);
            _downloadSchedule.Remove(target);
            _seedSchedule.Remove(target);
            target.Removed = true;
            return target;
        }
    }

    /// <summary>Asks for an announce of <paramref name="infoHash"/> now (a download finished: "completed").</summary>
    private void AnnounceSoon(InfoHash infoHash)
    {
        lock (_announceLock)
        {
            if (!_targets.TryGetValue(infoHash, out var target))
            {
                return;
            }

            if (target.InFlight)
            {
                target.Requested = true;
                return;
            }

            Reschedule(target, Now());
        }

        WakeAnnouncer();
    }

    /// <summary>Puts a target in the schedule its state calls for (caller holds the lock; not while in flight).</summary>
    private void Reschedule(AnnounceTarget target, long due)
    {
        if (target.InFlight || target.Removed)
        {
            return;
        }

        var downloading = target.IsDownloading;
        (downloading ? _seedSchedule : _downloadSchedule).Remove(target);
        (downloading ? _downloadSchedule : _seedSchedule).Schedule(target, due);
    }

    /// <summary>
    /// Tests with a fake clock: the announce loop sleeps until the next due time (its timer set), no announce is on its
    /// way or in flight, and nothing is due now. Advancing the clock then moves the schedule by exactly that much.
    /// </summary>
    internal bool AnnouncesSettled
    {
        get
        {
            lock (_announceLock)
            {
                var now = Now();
                return _announceLoopParked
                    && _announcesPending == 0
                    && !(_downloadSchedule.NextDue <= now)
                    && !(_seedsInFlight < MaxSeedAnnouncesInFlight && _seedSchedule.NextDue <= now);
            }
        }
    }

    /// <summary>Tests: announces taken from the schedules and not finished yet, with the loop asleep (null while it runs).</summary>
    internal int? AnnouncesPendingWhileParked
    {
        get
        {
            lock (_announceLock)
            {
                return _announceLoopParked ? _announcesPending : null;
            }
        }
    }

    private void WakeAnnouncer()
    {
        lock (_announceLock)
        {
            _announceLoopParked = false;
            try
            {
                if (_announceWake.CurrentCount == 0)
                {
                    _announceWake.Release();
                }
            }
            catch (Exception exception) when (exception is SemaphoreFullException or ObjectDisposedException)
            {
            }
        }
    }

    private async Task AnnounceLoopAsync()
    {
        var token = _stopping.Token;
        var due = new List<(AnnounceTarget Target, bool SeedSlot)>();
        while (!token.IsCancellationRequested)
        {
            CancellationTokenSource? wake = null;
            Task? sleep = null;
            lock (_announceLock)
            {
                var now = Now();
                while (_downloadSchedule.TryTakeDue(now, out var target))
                {
                    target.InFlight = true;
                    _announcesPending++;
                    due.Add((target, false));
                }

                while (_seedsInFlight < MaxSeedAnnouncesInFlight && _seedSchedule.TryTakeDue(now, out var target))
                {
                    target.InFlight = true;
                    _seedsInFlight++;
                    _announcesPending++;
                    due.Add((target, true));
                }

                var next = _downloadSchedule.NextDue;
                if (_seedsInFlight < MaxSeedAnnouncesInFlight && _seedSchedule.NextDue is { } seedDue && (next is null || seedDue < next))
                {
                    next = seedDue;
                }

                // A wait is bounded (a day), so a clock that jumps cannot leave the loop asleep for good.
                var wait = next is { } at ? TimeSpan.FromTicks(Math.Clamp(at - now, 0, TimeSpan.TicksPerDay)) : TimeSpan.FromDays(1);
                if (wait > TimeSpan.Zero)
                {
                    // The timer is set from the same reading of the clock as the wait (a clock advanced in between would
                    // make it late); parked, for AnnouncesSettled, unless a wake is already pending.
                    wake = CancellationTokenSource.CreateLinkedTokenSource(token);
                    sleep = Task.Delay(wait, _context.Time, wake.Token);
                    _announceLoopParked = _announceWake.CurrentCount == 0;
                }
            }

            foreach (var (target, seedSlot) in due)
            {
                var announce = AnnounceTargetAsync(target, seedSlot);
                _announcesInFlight.TryAdd(announce, 0);
                _ = announce.ContinueWith(static (t, state) => ((System.Collections.Concurrent.ConcurrentDictionary<Task, byte>)state!).TryRemove(t, out _),
                    _announcesInFlight, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }

            due.Clear();
            if (wake is null || sleep is null)
            {
                continue;
            }

            using (wake)
            {
                var signal = _announceWake.WaitAsync(wake.Token);
                await Task.WhenAny(signal, sleep).ConfigureAwait(false);
                lock (_announceLock)
                {
                    _announceLoopParked = false;
                }

                await wake.CancelAsync().ConfigureAwait(false);
                try
                {
                    await signal.ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }

                try
                {
                    await sleep.ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }
            }
        }
    }

    private async Task AnnounceTargetAsync(AnnounceTarget target, bool seedSlot)
    {
        await Task.Yield();
        BlobSwarm? swarm;
        AnnounceEvent announceEvent;
        lock (_announceLock)
        {
            swarm = target.Open?.Swarm;
            announceEvent = target.Next;
            if (target.WasDownloading && (swarm is null || swarm.IsComplete))
            {
                announceEvent = AnnounceEvent.Completed;
            }
        }

        var complete = swarm is null || swarm.IsComplete;
        var left = complete ? 0 : swarm!.MetaInfo.Length - ((long)swarm.Store.VerifiedCount * swarm.MetaInfo.PieceLength);
        var result = await AnnounceAsync(target.InfoHash, target.Digest, complete, Math.Max(0, left), announceEvent, _stopping.Token).ConfigureAwait(false);
        var dial = false;
        lock (_announceLock)
        {
            target.InFlight = false;
            _announcesPending--;
            if (seedSlot)
            {
                _seedsInFlight--;
            }

            if (!target.Removed && !_stopping.IsCancellationRequested)
            {
                var now = Now();
                var downloading = target.IsDownloading;
                TimeSpan delay;
                if (result is not null)
                {
                    target.Failures = 0;
                    target.Next = AnnounceEvent.None;
                    if (announceEvent == AnnounceEvent.Completed)
                    {
                        target.WasDownloading = false;
                    }

                    delay = _policy.NextDelay(downloading, 0, result.Interval, Random.Shared.NextDouble());
                    dial = downloading && swarm is not null;
                    if (_failuresInARow >= OutageFailures)
                    {
                        TrackerBack(now, _failuresInARow);
                    }

                    _failuresInARow = 0;
                }
                else
                {
                    target.Failures++;
                    delay = _policy.NextDelay(downloading, target.Failures, TimeSpan.Zero, Random.Shared.NextDouble());
                    if (++_failuresInARow == OutageFailures)
                    {
                        SwarmLog.TrackerUnreachable(_logger, _failuresInARow, _targets.Count);
                    }
                }

                if (target.Requested)
                {
                    target.Requested = false;
                    delay = TimeSpan.Zero;
                }

                Reschedule(target, now + delay.Ticks);
            }
        }

        WakeAnnouncer();
        if (dial && result is not null)
        {
            DialPeers(swarm!, result.Peers);
        }
    }

    /// <summary>
    /// The tracker answers again after an outage: the blobs backing off would otherwise come back at their own times, up to
    /// the cap later; they are spread over a short window instead (not all at once). Their failure counts stay: a blob
    /// whose own announce fails again keeps backing off. Caller holds the lock.
    /// </summary>
    private void TrackerBack(long now, int failures)
    {
        var seeds = _seedSchedule.Spread(now, _policy.SpreadWindow(CountBackingOff(_seedSchedule), downloading: false).Ticks, static t => t.Failures > 0, Random.Shared.NextDouble);
        var downloads = _downloadSchedule.Spread(now, _policy.SpreadWindow(CountBackingOff(_downloadSchedule), downloading: true).Ticks, static t => t.Failures > 0, Random.Shared.NextDouble);
        SwarmLog.TrackerBack(_logger, failures, seeds + downloads);

        static int CountBackingOff(AnnounceSchedule<AnnounceTarget> schedule) => schedule.Items().Count(static t => t.Failures > 0);
    }

    /// <summary>One announce, bounded by the tracker timeout; null when the tracker failed (logged, never thrown).</summary>
    private async Task<AnnounceResult?> AnnounceAsync(InfoHash infoHash, Digest digest, bool complete, long left, AnnounceEvent announceEvent, CancellationToken cancellationToken)
    {
        using var deadline = new CancellationTokenSource(_context.Options.TrackerTimeout, _context.Time);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        _context.Metrics.AnnounceAttempted();
        try
        {
            var result = await _tracker.AnnounceAsync(
                infoHash,
                digest,
                _context.PeerId,
                _context.ListenPort,
                complete,
                left,
                announceEvent,
                timeout.Token).WaitAsync(timeout.Token).ConfigureAwait(false);
            SwarmLog.Announced(_logger, infoHash, announceEvent.ToString(), result.Peers.Count, result.Interval);
            return result;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return null;
        }
        catch (Exception exception)
        {
            // Whatever the tracker does (throws, hangs, answers garbage) must not take the swarm down.
            _context.Metrics.AnnounceFailed();
            var reason = exception is OperationCanceledException ? "timed out" : exception.Message;
            if (Volatile.Read(ref _failuresInARow) >= OutageFailures)
            {
                SwarmLog.AnnounceFailedInOutage(_logger, infoHash, reason);
            }
            else
            {
                SwarmLog.AnnounceFailed(_logger, infoHash, reason);
            }
            return null;
        }
    }

    /// <summary>
    /// "stopped" for blobs leaving: best effort, bounded by the tracker timeout, a few at a time; skipped for a blob whose
    /// last announce failed (the tracker is unreachable; it forgets the peer after its TTL anyway) or that was never
    /// announced (the tracker does not know it).
    /// </summary>
    private async Task AnnounceStoppedAsync(IReadOnlyCollection<AnnounceTarget> targets)
    {
        var reachable = targets.Where(static t => t.Failures == 0 && t.Next != AnnounceEvent.Started).ToList();
        if (reachable.Count == 0)
        {
            return;
        }

        using var deadline = new CancellationTokenSource(_context.Options.TrackerTimeout);
        try
        {
            await Parallel.ForEachAsync(reachable, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = deadline.Token },
                async (target, token) => await AnnounceAsync(target.InfoHash, target.Digest, complete: target.Open is not { } open || open.Swarm.IsComplete, left: 0, AnnounceEvent.Stopped, token).ConfigureAwait(false)).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Out of time: the rest expire at the tracker.
        }
    }

    /// <summary>A blob this node announces: its swarm when open, its place in the schedules and its back-off.</summary>
    private sealed class AnnounceTarget(InfoHash infoHash, Digest digest)
    {
        public InfoHash InfoHash { get; } = infoHash;

        public Digest Digest { get; } = digest;

        /// <summary>The open swarm; null while the blob is a closed seed.</summary>
        public SwarmEntry? Open { get; set; }

        public bool IsDownloading => Open?.Swarm.IsDownloading == true;

        /// <summary>Announces of this blob that failed in a row.</summary>
        public int Failures { get; set; }

        /// <summary>The event of the next announce ("started" until one succeeds).</summary>
        public AnnounceEvent Next { get; set; } = AnnounceEvent.Started;

        /// <summary>Started as a download whose "completed" has not been announced yet.</summary>
        public bool WasDownloading { get; set; }

        public bool InFlight { get; set; }

        /// <summary>An announce was asked for while one was in flight: the next one goes at once.</summary>
        public bool Requested { get; set; }

        public bool Removed { get; set; }
    }
}
