namespace P2PRegistry.Origin.Cluster;

/// <summary>What a member knows of one other member for one blob.</summary>
internal enum Holding
{
    /// <summary>Not asked (the blob's owners were found before reaching it).</summary>
    Unknown,
    Holds,
    Missing,

    /// <summary>Down, or failed the exchange: not counted as an owner, its copy (if any) not counted.</summary>
    Unreachable,
}

/// <summary>What to do about one blob this member holds.</summary>
/// <param name="CopyTo">Members (indices) that must receive a copy.</param>
/// <param name="DropLocal">Remove this member's copy once every copy of <paramref name="CopyTo"/> succeeded.</param>
/// <param name="Owners">The blob's owners among the reachable members, best first.</param>
internal sealed record RepairPlan(int[] CopyTo, bool DropLocal, int[] Owners)
{
    public bool IsEmpty => CopyTo.Length == 0 && !DropLocal;
}

/// <summary>
/// Pure: from the ranking of a blob's members and what each is known to hold, the copies and the deletion that put it on
/// its R owners. The owners are the first R reachable members of the ranking (an unreachable one is replaced by the
/// next, so R copies exist while it is away; when it returns it ranks first again and the stand-in's copy goes). This
/// member drops its copy only when it is no owner and every owner holds the blob after the copies: never fewer than R
/// copies, never 0.
/// </summary>
internal static class RepairPlanner
{
    /// <param name="ranking">Member indices, best first (from <see cref="ClusterMembers.Rank"/>).</param>
    /// <param name="holdings">Per member index: what it holds; <paramref name="self"/>'s entry is ignored (it holds the blob).</param>
    public static RepairPlan Plan(IReadOnlyList<int> ranking, IReadOnlyList<Holding> holdings, int self, int replicationFactor)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(replicationFactor, 1);
        var owners = new List<int>(replicationFactor);
        var copyTo = new List<int>();
        foreach (var member in ranking)
        {
            if (owners.Count == replicationFactor)
            {
                break;
            }

            if (member == self)
            {
                owners.Add(member);
                continue;
            }

            switch (holdings[member])
            {
                case Holding.Holds:
                    owners.Add(member);
                    break;
                case Holding.Missing:
                    owners.Add(member);
                    copyTo.Add(member);
                    break;
                case Holding.Unknown:
                    // The caller stops asking once R owners are known, so an unknown member before that is a caller bug.
                    throw new ArgumentException($"Member {member} ranks among the owners but its holding is unknown.", nameof(holdings));
                case Holding.Unreachable:
                    break;
            }
        }

        // Fewer than R reachable owners: keep this copy whatever its rank, so the blob loses nothing while members are away.
        var dropLocal = !owners.Contains(self) && owners.Count == replicationFactor;
        return new RepairPlan([.. copyTo], dropLocal, [.. owners]);
    }
}
