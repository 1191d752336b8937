namespace P2PRegistry.Agent.Tracking;

/// <summary>One round trip to a tracker that costs it nothing; completes when the tracker answered that it serves.</summary>
internal interface ITrackerProbe
{
    /// <summary>Throws <see cref="TrackerUnreachableException"/> when the tracker did not answer, or answered that it does not serve.</summary>
    Task ProbeAsync(CancellationToken cancellationToken);
}
