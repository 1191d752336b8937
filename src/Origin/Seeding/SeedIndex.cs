using System.Collections.Concurrent;
using P2PRegistry.Core.Content;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Origin.Storage;
using P2PRegistry.Swarm;

namespace P2PRegistry.Origin.Seeding;

/// <summary>
/// Info hash → digest of every blob the origin holds, so a peer that handshakes for an info hash can be served
/// without a swarm opened per blob in advance. Built at start from the stored <c>metainfo</c> files and kept
/// up to date as blobs are stored (and as metainfos are served, which covers ones recomputed on demand).
/// Only digests are kept (~100 bytes per blob): the metainfo is read from disk when a swarm actually opens.
/// </summary>
/// <remarks>
/// A blob this process stored (its SHA-256 checked while it was written, fsynced, then renamed into place) is seeded
/// without checking each piece again on its first read; one found on disk at start is checked (docs/operations.md,
/// Origin, has the threat model).
/// </remarks>
internal sealed class SeedIndex
{
    private readonly ConcurrentDictionary<InfoHash, Digest> _digests = new();

    // The blobs this process stored itself (one entry per stored blob at most, like _digests).
    private readonly ConcurrentDictionary<Digest, byte> _storedHere = new();
    private readonly StorageLayout _layout;
    private readonly ILogger<SeedIndex> _logger;

    public SeedIndex(BlobStore blobs, ILogger<SeedIndex> logger)
    {
        ArgumentNullException.ThrowIfNull(blobs);
        _layout = blobs.Layout;
        _logger = logger;
        blobs.Stored += OnStored;
        blobs.Removed += OnRemoved;
    }

    public int Count => _digests.Count;

    public void Add(MetaInfo metaInfo) => _digests[metaInfo.InfoHash] = metaInfo.Digest;

    /// <summary>True when this process stored the blob itself (verified against its digest, fsynced) since it started.</summary>
    public bool StoredHere(Digest digest) => _storedHere.ContainsKey(digest);

    private void OnStored(MetaInfo metaInfo)
    {
        _storedHere[metaInfo.Digest] = 0;
        Add(metaInfo);
    }

    // Gone: bytes found there later came by a path that verified nothing (a restore, a copy by hand) until a store says so.
    private void OnRemoved(Digest digest) => _storedHere.TryRemove(digest, out _);

    /// <summary>Reads every <c>blobs/sha256/xx/&lt;hex&gt;/metainfo</c> whose blob is present; damaged ones are skipped (the metainfo endpoint recomputes them).</summary>
    public int Load()
    {
        if (!Directory.Exists(_layout.Blobs))
        {
            return 0;
        }

        var loaded = 0;
        foreach (var directory in Directory.EnumerateDirectories(_layout.Blobs).SelectMany(Directory.EnumerateDirectories))
        {
            var metaInfoPath = Path.Combine(directory, "metainfo");
            if (!File.Exists(metaInfoPath) || !File.Exists(Path.Combine(directory, "data")))
            {
                continue;
            }

            try
            {
                var metaInfo = MetaInfo.Decode(File.ReadAllBytes(metaInfoPath));
                if (metaInfo.Digest.Hex == Path.GetFileName(directory))
                {
                    Add(metaInfo);
                    loaded++;
                }
            }
            catch (Exception exception) when (exception is FormatException or IOException or UnauthorizedAccessException)
            {
                SeedingLog.IndexSkipped(_logger, metaInfoPath, exception.Message);
            }
        }

        return loaded;
    }

    /// <summary>The swarm engine's resolver: the stored blob of an info hash, or null when this origin has none.</summary>
    public SeedSource? Resolve(InfoHash infoHash)
    {
        if (!_digests.TryGetValue(infoHash, out var digest))
        {
            return null;
        }

        var data = _layout.BlobData(digest);
        if (!File.Exists(data))
        {
            _digests.TryRemove(new KeyValuePair<InfoHash, Digest>(infoHash, digest));
            _storedHere.TryRemove(digest, out _);
            return null;
        }

        // A small file (20 bytes per piece) read once per swarm opened: fine on the handshake path.
        var metaInfo = MetaInfo.Decode(File.ReadAllBytes(_layout.BlobMetaInfo(digest)));
        return metaInfo.InfoHash == infoHash ? new SeedSource(metaInfo, data, VerifiedHere: StoredHere(digest)) : null;
    }
}
