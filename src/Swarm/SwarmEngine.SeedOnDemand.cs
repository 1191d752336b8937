using P2PRegistry.Core.MetaInfos;

namespace P2PRegistry.Swarm;

/// <summary>
/// A complete blob that can be seeded: its metainfo and the file holding it. <paramref name="VerifiedHere"/>: this
/// process checked the file against its digest itself (it wrote it, verified and fsynced, since it started), so its
/// pieces are not checked again on their first read (<see cref="SwarmOptions.VerifySeedsOnFirstRead"/>).
/// </summary>
public sealed record SeedSource(MetaInfo MetaInfo, string Path, bool VerifiedHere = false);

public sealed partial class SwarmEngine
{
    /// <summary>
    /// Asked when a peer handshakes for an info hash this engine is in no swarm of: a non-null answer starts
    /// seeding that blob (complete-blob mode) and the connection proceeds. Lets the origin seed thousands of
    /// blobs without opening a swarm per blob up front, and an agent reopen the cached blobs whose swarms closed
    /// (<see cref="CloseIdleSeeds"/>). Called on the handshake path: must be quick.
    /// </summary>
    public Func<InfoHash, SeedSource?>? SeedResolver { get; set; }

    private BlobSwarm? OpenOnDemand(InfoHash infoHash)
    {
        if (SeedResolver is not { } resolve || _stopping.IsCancellationRequested)
        {
            return null;
        }

        try
        {
            if (resolve(infoHash) is not { } source || source.MetaInfo.InfoHash != infoHash)
            {
                return null;
            }

            Seed(source.MetaInfo, source.Path, source.VerifiedHere);
            return FindSwarm(infoHash);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or InvalidDataException or FormatException or ObjectDisposedException)
        {
            // The blob vanished or its files are damaged: refuse this peer as for an unknown info hash.
            SwarmLog.InboundRefused(_logger, null, $"cannot seed {infoHash}: {exception.Message}");
            return null;
        }
    }
}
