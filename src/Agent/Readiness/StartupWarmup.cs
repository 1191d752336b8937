using Microsoft.Extensions.Options;
using P2PRegistry.Agent.Blobs;
using P2PRegistry.Agent.Configuration;
using P2PRegistry.Agent.Manifests;
using P2PRegistry.Agent.Tracking;
using P2PRegistry.Core.Content;

namespace P2PRegistry.Agent.Readiness;

/// <summary>
/// The start-up work a first pull would otherwise pay for, done once before the agent says it is ready: the origin
/// clients' connections (manifests, and blobs no origin holds yet), the mirror's own request path (Kestrel, the
/// registry handler, JIT-compiled on first call), and a first MetaInfo round trip to each tracker (for the empty blob:
/// the agent's, the tracker's and the origin's MetaInfo code paths and the tracker's connection to the origin), all
/// bounded by <c>Agent:StartupWarmupTimeout</c> as a whole.
/// The trackers' channels are opened by the readiness probes that run alongside (<see cref="ReadinessMonitor"/>).
/// A step that fails or does not finish in time is logged; it does not keep the agent from becoming ready.
/// </summary>
internal sealed class StartupWarmup(
    OriginManifestClient manifests,
    OriginBlobClient blobs,
    AgentApp.RegistryListener registry,
    TrackerDirectory trackers,
    IOptions<AgentOptions> options,
    TimeProvider time,
    ILogger<StartupWarmup> logger)
{
    private static readonly Digest EmptyBlob = Digest.Compute([]);

    /// <summary>Runs the steps at once; returns when all finished or the time is up.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        using var deadline = new CancellationTokenSource(options.Value.StartupWarmupTimeout, time);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        List<Task<string>> steps =
        [
            StepAsync("origin (manifests)", manifests.WarmUpAsync, timeout.Token),
            StepAsync("origin (blobs)", blobs.WarmUpAsync, timeout.Token),
            StepAsync("registry API", SelfRequestAsync, timeout.Token),
        ];

        // Straight to each tracker, not through the failover: an answer here says nothing about the tracker's health
        // (an origin that is down makes it answer UNAVAILABLE), so it must not mark it failed.
        foreach (var tracker in trackers.Current.Endpoints)
        {
            steps.Add(StepAsync($"MetaInfo at {tracker.Url}", async token =>
            {
                var metaInfo = await tracker.MetaInfos.GetMetaInfoAsync(EmptyBlob, options.Value.DefaultRegistry, token).ConfigureAwait(false);
                return metaInfo is null ? 404 : 200;
            }, timeout.Token));
        }

        var outcomes = await Task.WhenAll(steps).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        ReadinessLog.WarmedUp(logger, Milliseconds(started), string.Join("; ", outcomes));
    }

    private long Milliseconds(long since) => (long)time.GetElapsedTime(since).TotalMilliseconds;

    private async Task<string> StepAsync(string name, Func<CancellationToken, Task<int>> step, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        try
        {
            var status = await step(cancellationToken).ConfigureAwait(false);
            return $"{name} {status} in {Milliseconds(started)} ms";
        }
        catch (Exception) when (cancellationToken.IsCancellationRequested)
        {
            // Out of time (or stopping): a cancelled call may surface as its client's own exception (gRPC: RpcException).
            return $"{name} unfinished after {Milliseconds(started)} ms";
        }
        catch (Exception ex)
        {
            // Refused, reset, a TLS failure: the first pull will meet it too; the warm-up only reports it.
            return $"{name} failed in {Milliseconds(started)} ms ({ex.Message})";
        }
    }

    /// <summary><c>GET /v2/</c> on the agent's own registry listener (plain HTTP only: an https one would need its own trust here).</summary>
    private async Task<int> SelfRequestAsync(CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(options.Value.RegistryUrl, UriKind.Absolute, out var url) || url.Scheme != Uri.UriSchemeHttp || registry.Listen?.IPEndPoint is not { } endPoint)
        {
            return 0;
        }

        var host = endPoint.Address.Equals(System.Net.IPAddress.Any) ? System.Net.IPAddress.Loopback
            : endPoint.Address.Equals(System.Net.IPAddress.IPv6Any) ? System.Net.IPAddress.IPv6Loopback : endPoint.Address;
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false });
        var target = new UriBuilder(Uri.UriSchemeHttp, host.ToString(), endPoint.Port, "/v2/").Uri;
        using var response = await http.GetAsync(target, cancellationToken).ConfigureAwait(false);
        return (int)response.StatusCode;
    }
}
