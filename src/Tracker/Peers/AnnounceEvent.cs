namespace P2PRegistry.Tracker.Peers;

/// <summary>The BEP 3 announce event; <see cref="None"/> is a regular re-announce.</summary>
internal enum AnnounceEvent
{
    None,
    Started,
    Completed,
    Stopped,
}
