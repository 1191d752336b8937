namespace P2PRegistry.Swarm.Tracking;

/// <summary>BEP 3 announce <c>event</c>: absent for a regular interval announce.</summary>
public enum AnnounceEvent
{
    None,
    Started,
    Completed,
    Stopped,
}
