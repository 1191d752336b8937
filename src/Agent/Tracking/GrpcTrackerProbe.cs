using Grpc.Core;
using Grpc.Health.V1;

namespace P2PRegistry.Agent.Tracking;

/// <summary>
/// <c>grpc.health.v1.Health/Check</c> over the tracker's own channel (the one announces and MetaInfo requests use), so a
/// probe that answers has also opened that channel's connection and HTTP/2 session. SERVING is reachable; so is
/// UNIMPLEMENTED (a tracker without the health service answered all the same). NOT_SERVING (e.g. its Redis is away) is not.
/// </summary>
internal sealed class GrpcTrackerProbe(Health.HealthClient client, TimeSpan timeout, TimeProvider time) : ITrackerProbe
{
    public async Task ProbeAsync(CancellationToken cancellationToken)
    {
        HealthCheckResponse response;
        try
        {
            response = await client.CheckAsync(new HealthCheckRequest(), deadline: time.GetUtcNow().UtcDateTime + timeout, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.Unimplemented)
        {
            return;
        }
        catch (RpcException ex)
        {
            cancellationToken.ThrowIfCancellationRequested();
            throw new TrackerUnreachableException($"{ex.StatusCode} {ex.Status.Detail}", ex);
        }

        if (response.Status != HealthCheckResponse.Types.ServingStatus.Serving)
        {
            throw new TrackerUnreachableException($"the tracker answers {response.Status}");
        }
    }
}
