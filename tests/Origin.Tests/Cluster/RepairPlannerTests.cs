using P2PRegistry.Origin.Cluster;

namespace P2PRegistry.Origin.Tests.Cluster;

public sealed class RepairPlannerTests
{
    private const Holding H = Holding.Holds;
    private const Holding M = Holding.Missing;
    private const Holding U = Holding.Unreachable;
    private const Holding X = Holding.Unknown;

    // Members 0..3; ranking for the blob is 2, 0, 3, 1 unless said otherwise.
    private static readonly int[] Ranking = [2, 0, 3, 1];

    [Fact]
    public void OwnerSelf_OtherOwnerHolds_NothingToDo()
    {
        var plan = RepairPlanner.Plan(Ranking, [H, X, X, X], self: 2, replicationFactor: 2);
        Assert.True(plan.IsEmpty);
        Assert.Equal([2, 0], plan.Owners);
    }

    [Fact]
    public void OwnerSelf_OtherOwnerMissing_CopiesToIt_KeepsOwnCopy()
    {
        var plan = RepairPlanner.Plan(Ranking, [M, X, X, X], self: 2, replicationFactor: 2);
        Assert.Equal([0], plan.CopyTo);
        Assert.False(plan.DropLocal);
    }

    [Fact]
    public void NotOwner_BothOwnersHold_DropsLocal()
    {
        var plan = RepairPlanner.Plan(Ranking, [H, X, H, X], self: 1, replicationFactor: 2);
        Assert.Empty(plan.CopyTo);
        Assert.True(plan.DropLocal);
    }

    [Fact]
    public void NotOwner_OwnersMissing_CopiesToBoth_ThenDrops()
    {
        var plan = RepairPlanner.Plan(Ranking, [M, X, M, X], self: 1, replicationFactor: 2);
        Assert.Equal([2, 0], plan.CopyTo);
        Assert.True(plan.DropLocal);
    }

    [Fact]
    public void OwnerUnreachable_NextMemberStandsIn()
    {
        // Member 0 (second) is down: 3 takes its place.
        var plan = RepairPlanner.Plan(Ranking, [U, X, H, M], self: 2, replicationFactor: 2);
        Assert.Equal([3], plan.CopyTo);
        Assert.Equal([2, 3], plan.Owners);
        Assert.False(plan.DropLocal);
    }

    [Fact]
    public void StandIn_AfterTheOwnerReturned_DropsItsCopy()
    {
        // Self = 3 held the stand-in copy; 2 and 0 are both back and hold it.
        var plan = RepairPlanner.Plan(Ranking, [H, X, H, X], self: 3, replicationFactor: 2);
        Assert.True(plan.DropLocal);
    }

    [Fact]
    public void TooFewReachable_KeepsTheOnlyCopy()
    {
        // Self = 1 ranks last, every other member is unreachable: never drop the last copy.
        var plan = RepairPlanner.Plan(Ranking, [U, X, U, U], self: 1, replicationFactor: 2);
        Assert.False(plan.DropLocal);
        Assert.Empty(plan.CopyTo);
        Assert.Equal([1], plan.Owners);
    }

    [Fact]
    public void OneReachableOwnerBesidesSelfNotOwner_KeepsLocal()
    {
        // Self = 1 is third among reachable (0 down): owners 2, 3; 3 missing → copy, then drop.
        var plan = RepairPlanner.Plan(Ranking, [U, X, H, M], self: 1, replicationFactor: 2);
        Assert.Equal([3], plan.CopyTo);
        Assert.True(plan.DropLocal);
        Assert.Equal([2, 3], plan.Owners);
    }

    [Fact]
    public void ReplicationFactorOne_OwnerHolds_NonOwnerDrops()
    {
        var plan = RepairPlanner.Plan(Ranking, [X, X, H, X], self: 0, replicationFactor: 1);
        Assert.True(plan.DropLocal);
        Assert.Equal([2], plan.Owners);
    }

    [Fact]
    public void UnknownHoldingAmongOwners_IsRefused()
    {
        Assert.Throws<ArgumentException>(() => RepairPlanner.Plan(Ranking, [X, X, X, X], self: 1, replicationFactor: 2));
    }
}
