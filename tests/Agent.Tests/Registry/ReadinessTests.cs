using System.Net;
using P2PRegistry.Agent.Tests.Support;
using P2PRegistry.Testing.Fakes;
using P2PRegistry.Testing.FileSystem;
using P2PRegistry.Testing.Waiting;

namespace P2PRegistry.Agent.Tests.Registry;

/// <summary><c>/readyz</c> follows the trackers: not ready while none answers its probe, ready once one does.</summary>
public sealed class ReadinessTests : IDisposable
{
    private readonly TempDirectory _dir = new("agent-ready");
    private readonly FakeTracker _tracker = new();
    private readonly FakeMetaInfoSource _metaInfos = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Readyz_TrackerUnreachable_NotReady_ThenReadyWhenItAnswers()
    {
        var probe = new FakeTrackerProbe(answers: false);
        await using var agent = await TestAgent.StartAsync(_dir.Combine("a"), _metaInfos, _tracker, originUrl: null, probe);

        // Several probes failed (it keeps trying), and all the while the agent says it is not ready, naming why.
        await Eventually.AssertAsync(() => probe.Probes >= 3, timeout: TimeSpan.FromSeconds(60));
        using (var notReady = await agent.Client.GetAsync("/readyz"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, notReady.StatusCode);
            Assert.Contains("no tracker reachable", await notReady.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.True(agent.Logs.Contains(72, "connection refused (fake)"), "the failed probes were not logged");
        using (var alive = await agent.Client.GetAsync("/healthz"))
        {
            Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
        }

        probe.Answers = true;
        await Eventually.AssertAsync(async () => (await agent.Client.GetAsync("/readyz")).StatusCode == HttpStatusCode.OK, timeout: TimeSpan.FromSeconds(60));
        Assert.True(agent.Logs.Contains(71, TestAgent.ProbedTrackerUrl), "readiness was not logged");
        Assert.True(agent.Logs.Contains(70, "registry API 200"), "the warm-up was not logged with its steps");
    }

    [Fact]
    public async Task Readyz_TrackerAnswers_Ready()
    {
        await using var agent = await TestAgent.StartAsync(_dir.Combine("b"), _metaInfos, _tracker, originUrl: null, new FakeTrackerProbe(answers: true));

        await Eventually.AssertAsync(async () => (await agent.Client.GetAsync("/readyz")).StatusCode == HttpStatusCode.OK, timeout: TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task WarmUp_MetaInfoRoundTripOutOfTime_EndsCancelledAsAGrpcCallDoes_AgentStaysUpAndBecomesReady()
    {
        // A cancelled gRPC call throws RpcException(Cancelled), not OperationCanceledException: the warm-up's bound
        // running out on it must leave the agent running, and ready.
        _metaInfos.Fault = async ct =>
        {
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            catch (OperationCanceledException)
            {
                throw new Grpc.Core.RpcException(new Grpc.Core.Status(Grpc.Core.StatusCode.Cancelled, "cancelled"));
            }
        };
        await using var agent = await TestAgent.StartAsync(_dir.Combine("c"), _metaInfos, _tracker, originUrl: null, new FakeTrackerProbe(answers: true), "--Agent:StartupWarmupTimeout=00:00:01");

        await Eventually.AssertAsync(async () => (await agent.Client.GetAsync("/readyz")).StatusCode == HttpStatusCode.OK, timeout: TimeSpan.FromSeconds(60));
        Assert.True(agent.Logs.Contains(70, "unfinished"), "the step out of time was not reported");
        Assert.Equal(HttpStatusCode.OK, (await agent.Client.GetAsync("/healthz")).StatusCode);
    }
}
