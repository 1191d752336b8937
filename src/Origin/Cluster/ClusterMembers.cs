using P2PRegistry.Core.Content;
using P2PRegistry.Core.Health;
using P2PRegistry.Core.Placement;

namespace P2PRegistry.Origin.Cluster;

/// <summary>
/// The members of the cluster, where a blob belongs, and which members are live. Placement is rendezvous hashing of the
/// digest string over the member URLs, so every origin (and the tracker) ranks a blob's members the same way. Health
/// is passive: a member that failed an exchange is skipped for <see cref="ClusterOptions.DownTime"/>, then tried again.
/// </summary>
internal sealed class ClusterMembers
{
    private readonly RendezvousRing _ring;
    private readonly PassiveHealth<int> _health;

    public ClusterMembers(IReadOnlyList<string> members, string self, int replicationFactor, TimeProvider time, TimeSpan downTime)
    {
        Members = [.. members.Select(ClusterOptions.Normalize)];
        _ring = new RendezvousRing(Members);
        Self = Members.IndexOf(ClusterOptions.Normalize(self));
        if (Self < 0)
        {
            throw new ArgumentException($"'{self}' is not a member.", nameof(self));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(replicationFactor, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(replicationFactor, Members.Count);
        ReplicationFactor = replicationFactor;
        _health = new PassiveHealth<int>(time, downTime, downTime);
    }

    public List<string> Members { get; }

    /// <summary>This origin's index in <see cref="Members"/>.</summary>
    public int Self { get; }

    public int ReplicationFactor { get; }

    public int Count => Members.Count;

    /// <summary>Every member's index, best place for <paramref name="digest"/> first.</summary>
    public int[] Rank(Digest digest) => _ring.Rank(digest.Value);

    /// <summary>The first R members of the ranking: where the blob belongs when every member is up.</summary>
    public int[] Owners(Digest digest) => _ring.Rank(digest.Value)[..ReplicationFactor];

    /// <summary>This origin, or a member with no failure in the last <see cref="ClusterOptions.DownTime"/>.</summary>
    public bool IsLive(int member) => member == Self || _health.IsAvailable(member);

    public void MarkDown(int member)
    {
        if (member != Self)
        {
            _health.Failed(member);
        }
    }

    public void MarkUp(int member) => _health.Succeeded(member);

    /// <summary>Marked down and not up since (whatever <see cref="ClusterOptions.DownTime"/> says): what tests check.</summary>
    internal bool IsMarkedDown(int member) => _health.HasFailed(member);
}
