using System.Net;

namespace P2PRegistry.Tracker.Admission;

/// <summary>
/// Who sent an announce, as far as the tracker can tell from the connection rather than from what the announce says:
/// the source address, and whether the sender is an authenticated origin.
/// </summary>
internal readonly record struct AnnouncerIdentity(IPAddress Source, bool IsOrigin)
{
    /// <summary>Whether the sender is on the tracker's own host (it connected over loopback).</summary>
    public bool IsLocal => IPAddress.IsLoopback(Source);
}
