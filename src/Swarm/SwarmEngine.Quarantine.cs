using System.Runtime.CompilerServices;
using P2PRegistry.Core.Content;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Swarm.Pieces;

namespace P2PRegistry.Swarm;

/// <summary>A seeded blob found corrupt on disk: the blob, the first piece that failed its SHA-1, and its file.</summary>
public sealed record SeedCorruption(InfoHash InfoHash, Digest Digest, int Piece, string Path);

public sealed partial class SwarmEngine
{
    private static readonly object s_quarantinedMark = new();

    // Swarms quarantined already, so each is reported once however many reads find it (weak: forgotten with the swarm).
    private readonly ConditionalWeakTable<BlobSwarm, object> _quarantined = new();

    /// <summary>
    /// Raised once per seeded blob whose file failed a piece's SHA-1 (<see cref="SwarmOptions.VerifySeedsOnFirstRead"/>),
    /// on the thread of the read that found it, before its swarm stops. While handlers run the swarm still holds its
    /// info hash, so no handshake can reopen the same file on demand: a handler that moves the file aside (the origin)
    /// keeps it from being seeded again. Handlers must be quick; one that throws is logged and does not stop the rest.
    /// </summary>
    public event Action<SeedCorruption>? SeedCorrupted;

    /// <summary>
    /// Stops seeding a blob whose file failed a piece's SHA-1: logs it, counts it, raises <see cref="SeedCorrupted"/>,
    /// then stops the swarm (its sessions close, the tracker hears <c>stopped</c>). The swarm's store calls this when
    /// it finds the corruption; calling it again (a session that caught the <see cref="CorruptPieceException"/>) does
    /// nothing more.
    /// </summary>
    internal void Quarantine(BlobSwarm swarm, int piece)
    {
        ArgumentNullException.ThrowIfNull(swarm);
        if (!_quarantined.TryAdd(swarm, s_quarantinedMark))
        {
            return;
        }

        var metaInfo = swarm.MetaInfo;
        var path = swarm.Store.Path;
        SwarmLog.SeedQuarantined(_logger, metaInfo.Digest.Value, metaInfo.InfoHash, piece, path);
        _context.Metrics.SeedQuarantined();
        if (SeedCorrupted is { } handlers)
        {
            var corruption = new SeedCorruption(metaInfo.InfoHash, metaInfo.Digest, piece, path);
            foreach (var handler in handlers.GetInvocationList().Cast<Action<SeedCorruption>>())
            {
                try
                {
                    handler(corruption);
                }
                catch (Exception exception)
                {
                    // A host's reaction must not keep the swarm from stopping, nor fail the read that found the corruption.
                    SwarmLog.SeedCorruptedHandlerFailed(_logger, metaInfo.Digest.Value, exception);
                }
            }
        }

        SwarmEntry? removed = null;
        AnnounceTarget? target = null;
        lock (_startLock)
        {
            if (_swarms.TryGetValue(swarm.InfoHash, out var entry) && entry.Swarm == swarm
                && _swarms.TryRemove(new KeyValuePair<InfoHash, SwarmEntry>(swarm.InfoHash, entry)))
            {
                removed = entry;
                target = DetachTarget(swarm.InfoHash, entry);
            }
        }

        if (removed is not null)
        {
            // Off the reading thread (a session's send loop, which the stop closes too).
            _ = Task.Run(() => StopAsync(removed, target));
        }
    }

    /// <summary>
    /// The swarm of a complete blob to seed: its file checked piece by piece on first read when
    /// <see cref="SwarmOptions.VerifySeedsOnFirstRead"/> says so and this process did not verify the file itself
    /// (<paramref name="verifiedHere"/>), and quarantined when a piece fails.
    /// </summary>
    private BlobSwarm OpenSeed(MetaInfo metaInfo, string path, bool verifiedHere)
    {
        var store = PieceStore.OpenComplete(metaInfo, path, _context.Options.VerifySeedsOnFirstRead && !verifiedHere);
        try
        {
            var swarm = new BlobSwarm(_context, store, download: false);
            store.Corrupted += piece => Quarantine(swarm, piece);
            return swarm;
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }
}
