using Microsoft.Extensions.Diagnostics.HealthChecks;
using P2PRegistry.Agent.Tracking;

namespace P2PRegistry.Agent.Readiness;

/// <summary>
/// Owns the agent's readiness (<c>/readyz</c>, through <see cref="IHealthCheck"/>): ready once the start-up warm-up is
/// over (<see cref="StartupWarmup"/>, bounded) and while some configured tracker is reachable — it answered a
/// <c>grpc.health.v1</c> probe or a call, and no call to it failed since (<see cref="TrackerHealth"/>). Without a
/// reachable tracker a pull could not find peers, so the agent is not ready; it probes every tracker again after
/// <see cref="FirstRetry"/>, doubling up to <see cref="LastRetry"/>, logging each round, until one answers. While
/// ready it probes every <see cref="ReadyInterval"/>, which also keeps the trackers' channels connected.
/// </summary>
internal sealed class ReadinessMonitor(
    IHostApplicationLifetime lifetime,
    TrackerDirectory trackers,
    StartupWarmup warmup,
    TimeProvider time,
    ILogger<ReadinessMonitor> logger) : BackgroundService, IHealthCheck
{
    internal static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(250);
    internal static readonly TimeSpan LastRetry = TimeSpan.FromSeconds(5);
    internal static readonly TimeSpan ReadyInterval = TimeSpan.FromSeconds(10);

    /// <summary>One probe's bound: an answer takes a round trip, a connection refused fails at once.</summary>
    internal static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(5);

    private readonly long _started = time.GetTimestamp();
    private volatile bool _warmedUp;
    private volatile string _problem = "starting";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var result = !_warmedUp ? HealthCheckResult.Unhealthy("start-up warm-up in progress")
            : trackers.AnyReachable ? HealthCheckResult.Healthy("a tracker is reachable")
            : HealthCheckResult.Unhealthy($"no tracker reachable: {_problem}");
        return Task.FromResult(result);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // The warm-up's own request to the registry API needs the listener bound.
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        using (stoppingToken.Register(() => started.TrySetCanceled(stoppingToken)))
        {
            try
            {
                await started.Task.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }

        try
        {
            // The first probes open the trackers' channels alongside the warm-up.
            var probing = ProbeAllAsync(stoppingToken);
            await warmup.RunAsync(stoppingToken).ConfigureAwait(false);
            _warmedUp = true;
            var reachable = await probing.ConfigureAwait(false);
            var delay = FirstRetry;
            while (true)
            {
                TimeSpan wait;
                if (reachable)
                {
                    delay = FirstRetry;
                    wait = ReadyInterval;
                }
                else
                {
                    ReadinessLog.NoTrackerReachable(logger, _problem, delay);
                    wait = delay;
                    delay = TimeSpan.FromTicks(Math.Min(LastRetry.Ticks, delay.Ticks * 2));
                }

                await Task.Delay(wait, time, stoppingToken).ConfigureAwait(false);
                reachable = await ProbeAllAsync(stoppingToken).ConfigureAwait(false);
            }
        }
        catch (Exception) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: a call cut short may end in its client's own exception rather than a cancellation.
        }
    }

    /// <summary>Probes every configured tracker at once; true when at least one answered.</summary>
    private async Task<bool> ProbeAllAsync(CancellationToken cancellationToken)
    {
        var wasReachable = trackers.AnyReachable;
        var endpoints = trackers.Current.Endpoints;
        var outcomes = await Task.WhenAll(endpoints.Select(e => ProbeAsync(e, cancellationToken))).ConfigureAwait(false);
        var answered = endpoints.Where((_, i) => outcomes[i] is null).ToList();
        if (answered.Count == 0)
        {
            _problem = string.Join("; ", endpoints.Select((e, i) => $"{e.Url}: {outcomes[i]}"));
            return false;
        }

        if (!wasReachable)
        {
            ReadinessLog.Ready(logger, answered[0].Url, (long)time.GetElapsedTime(_started).TotalMilliseconds);
        }

        return true;
    }

    /// <summary>Null when the tracker answered, else why not. Feeds <see cref="TrackerHealth"/> either way.</summary>
    private async Task<string?> ProbeAsync(TrackerEndpoint endpoint, CancellationToken cancellationToken)
    {
        if (endpoint.Probe is not { } probe)
        {
            return "cannot be probed";
        }

        using var deadline = new CancellationTokenSource(ProbeTimeout, time);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            await probe.ProbeAsync(timeout.Token).ConfigureAwait(false);
            trackers.Health.Succeeded(endpoint.Url);
            return null;
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            // Whatever the failure (refused, reset, deadline, a broken answer), the tracker did not answer this probe.
            if (trackers.Health.IsReachable(endpoint.Url))
            {
                // It was answering: calls now skip it for a while, as after a failed call.
                trackers.Health.Failed(endpoint.Url);
            }

            return deadline.IsCancellationRequested ? $"no answer within {ProbeTimeout.TotalSeconds:0} s" : ex.Message;
        }
    }
}
