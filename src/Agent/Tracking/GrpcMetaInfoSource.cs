using Grpc.Core;
using P2PRegistry.Contracts.Tracker;
using P2PRegistry.Core.Content;
using P2PRegistry.Core.MetaInfos;

namespace P2PRegistry.Agent.Tracking;

/// <summary>
/// <c>Tracker.GetMetaInfo</c> over gRPC. The info dict is decoded and checked: its info hash must be the
/// one the tracker sent and its name the digest asked for, so a confused tracker cannot make us fetch
/// (and then serve) another blob.
/// </summary>
/// <param name="timeout">Each request's deadline (the tracker may have to ask the origin first); null = the caller's token alone.</param>
internal sealed class GrpcMetaInfoSource(Contracts.Tracker.Tracker.TrackerClient client, TimeSpan? timeout = null, TimeProvider? time = null) : IMetaInfoSource
{
    public async Task<MetaInfo?> GetMetaInfoAsync(Digest digest, string registryNamespace, CancellationToken cancellationToken)
    {
        GetMetaInfoResponse response;
        try
        {
            response = await client.GetMetaInfoAsync(
                new GetMetaInfoRequest { Digest = digest.Value, Ns = registryNamespace },
                deadline: timeout is { } limit ? (time ?? TimeProvider.System).GetUtcNow().UtcDateTime + limit : null,
                cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound)
        {
            return null;
        }
        catch (RpcException ex) when (ex.StatusCode != StatusCode.Cancelled || !cancellationToken.IsCancellationRequested)
        {
            throw new MetaInfoUnavailableException($"tracker GetMetaInfo failed: {ex.Status.StatusCode} {ex.Status.Detail}", ex);
        }

        MetaInfo metaInfo;
        try
        {
            metaInfo = MetaInfo.Decode(response.Info.Memory);
        }
        catch (Exception ex) when (ex is FormatException or InvalidDataException or ArgumentException)
        {
            throw new MetaInfoUnavailableException($"the tracker sent an invalid MetaInfo for {digest}", ex);
        }

        if (metaInfo.Digest != digest || response.InfoHash.Length != InfoHash.Length || metaInfo.InfoHash != new InfoHash(response.InfoHash.Span))
        {
            throw new MetaInfoUnavailableException($"the tracker sent a MetaInfo for another blob ({metaInfo.Digest}) when asked for {digest}");
        }

        return metaInfo;
    }
}
