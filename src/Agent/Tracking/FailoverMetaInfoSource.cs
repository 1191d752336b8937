using P2PRegistry.Core.Content;
using P2PRegistry.Core.MetaInfos;

namespace P2PRegistry.Agent.Tracking;

/// <summary>
/// Asks the digest's tracker (rendezvous hashing of the digest) for a blob's metainfo and, when it is unreachable,
/// the next; "not found" is an answer and is not failed over.
/// </summary>
internal sealed class FailoverMetaInfoSource(TrackerDirectory trackers, TrackingMetrics metrics, ILogger<FailoverMetaInfoSource> logger) : IMetaInfoSource
{
    public async Task<MetaInfo?> GetMetaInfoAsync(Digest digest, string registryNamespace, CancellationToken cancellationToken)
    {
        MetaInfoUnavailableException? last = null;
        foreach (var tracker in trackers.Current.Order(digest, trackers.Health))
        {
            try
            {
                var metaInfo = await tracker.MetaInfos.GetMetaInfoAsync(digest, registryNamespace, cancellationToken).ConfigureAwait(false);
                trackers.Health.Succeeded(tracker.Url);
                return metaInfo;
            }
            catch (MetaInfoUnavailableException ex) when (!cancellationToken.IsCancellationRequested && TrackerFailures.IsUnreachable(ex.InnerException))
            {
                metrics.Failed("metainfo");
                logger.TrackerFailed(tracker.Url, ex.Message, trackers.Health.Failed(tracker.Url));
                last = ex;
            }
        }

        throw new MetaInfoUnavailableException($"No tracker answered for the metainfo of {digest} ({trackers.Current.Endpoints.Count} tried).", last);
    }
}
