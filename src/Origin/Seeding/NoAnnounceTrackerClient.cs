using P2PRegistry.Core.Content;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Core.Wire;
using P2PRegistry.Swarm.Tracking;

namespace P2PRegistry.Origin.Seeding;

/// <summary>
/// The origin never announces: it holds thousands of blobs, and the tracker already learns it as the seed of a
/// swarm when it fetches that blob's metainfo (header <c>X-P2P-Origin-Peer</c>). The origin only answers peers
/// that dial it, so its swarms need no peers from a tracker either.
/// </summary>
internal sealed class NoAnnounceTrackerClient : ITrackerClient
{
    private static readonly AnnounceResult s_nothing = new([], TimeSpan.FromHours(12));

    public Task<AnnounceResult> AnnounceAsync(InfoHash infoHash, Digest digest, PeerId peerId, int port, bool complete, long bytesLeft, AnnounceEvent announceEvent, CancellationToken cancellationToken) =>
        Task.FromResult(s_nothing);
}
