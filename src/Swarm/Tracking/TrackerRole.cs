namespace P2PRegistry.Swarm.Tracking;

/// <summary>Which kind of component announces; the tracker hands origins out last so they are not the hot spot.</summary>
public enum TrackerRole
{
    Agent,
    Origin,
}
