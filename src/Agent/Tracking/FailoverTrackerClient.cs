using P2PRegistry.Core.Content;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Core.Wire;
using P2PRegistry.Swarm.Tracking;

namespace P2PRegistry.Agent.Tracking;

/// <summary>
/// Announces to the blob's tracker (rendezvous hashing of the digest, as <see cref="FailoverMetaInfoSource"/> does, over <see cref="TrackerDirectory"/>) and,
/// when it is unreachable, to the next — one pass over the list, no retries over time (the engine's announce loop
/// decides when to try again). A refusal is an answer: it is not failed over.
/// </summary>
internal sealed class FailoverTrackerClient(TrackerDirectory trackers, TrackingMetrics metrics, ILogger<FailoverTrackerClient> logger) : ITrackerClient
{
    public async Task<AnnounceResult> AnnounceAsync(InfoHash infoHash, Digest digest, PeerId peerId, int port, bool complete, long bytesLeft, AnnounceEvent announceEvent, CancellationToken cancellationToken)
    {
        TrackerException? last = null;
        foreach (var tracker in trackers.Current.Order(digest, trackers.Health))
        {
            try
            {
                var result = await tracker.Announces.AnnounceAsync(infoHash, digest, peerId, port, complete, bytesLeft, announceEvent, cancellationToken).ConfigureAwait(false);
                trackers.Health.Succeeded(tracker.Url);
                return result;
            }
            catch (TrackerException ex) when (!cancellationToken.IsCancellationRequested && TrackerFailures.IsUnreachable(ex.InnerException))
            {
                metrics.Failed("announce");
                logger.TrackerFailed(tracker.Url, ex.Message, trackers.Health.Failed(tracker.Url));
                last = ex;
            }
            catch (TrackerException) when (!cancellationToken.IsCancellationRequested)
            {
                trackers.Health.Succeeded(tracker.Url);
                throw;
            }
        }

        throw new TrackerException($"No tracker answered the announce ({trackers.Current.Endpoints.Count} tried).", last!);
    }
}
