using P2PRegistry.Agent.Tracking;

namespace P2PRegistry.Agent.Tests.Support;

/// <summary>A tracker's readiness probe that answers or not as the test says; counts the probes.</summary>
internal sealed class FakeTrackerProbe : ITrackerProbe
{
    private int _probes;
    private volatile bool _answers;

    public FakeTrackerProbe(bool answers) => _answers = answers;

    public bool Answers
    {
        get => _answers;
        set => _answers = value;
    }

    public int Probes => Volatile.Read(ref _probes);

    public Task ProbeAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _probes);
        return _answers ? Task.CompletedTask : Task.FromException(new TrackerUnreachableException("connection refused (fake)"));
    }
}
