using Microsoft.Extensions.Time.Testing;
using P2PRegistry.Core.Content;
using P2PRegistry.Origin.Cluster;

namespace P2PRegistry.Origin.Tests.Cluster;

public sealed class ClusterMembersTests
{
    private static readonly string[] Three = ["http://a:5000", "http://b:5000", "http://c:5000"];

    private static Digest DigestOf(int i) => Digest.Compute(BitConverter.GetBytes(i));

    private static ClusterMembers Members(string[] members, string self, FakeTimeProvider? time = null) =>
        new(members, self, 2, time ?? new FakeTimeProvider(), TimeSpan.FromSeconds(30));

    [Fact]
    public void Owners_AreTwoDistinctMembers_TheSameOnEveryMember()
    {
        var onA = Members(Three, "http://a:5000");
        var onC = Members(Three, "http://c:5000/");
        for (var i = 0; i < 200; i++)
        {
            var owners = onA.Owners(DigestOf(i)).Select(o => onA.Members[o]).ToList();
            Assert.Equal(2, owners.Distinct().Count());
            Assert.Equal(owners, onC.Owners(DigestOf(i)).Select(o => onC.Members[o]));
        }
    }

    [Fact]
    public void Owners_DoNotDependOnTheOrderMembersAreListed()
    {
        var listed = Members(Three, "http://a:5000");
        var reversed = Members([.. Three.Reverse()], "http://a:5000");
        for (var i = 0; i < 200; i++)
        {
            Assert.Equal(
                listed.Owners(DigestOf(i)).Select(o => listed.Members[o]),
                reversed.Owners(DigestOf(i)).Select(o => reversed.Members[o]));
        }
    }

    [Fact]
    public void Owners_SpreadOverEveryMember()
    {
        var members = Members(Three, "http://a:5000");
        var firsts = Enumerable.Range(0, 600).Select(i => members.Owners(DigestOf(i))[0]).GroupBy(m => m).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(3, firsts.Count);
        Assert.All(firsts.Values, count => Assert.InRange(count, 120, 280));
    }

    [Fact]
    public void AddingAFourthMember_MovesOnlyBlobsItNowOwns()
    {
        var before = Members(Three, "http://a:5000");
        var after = Members([.. Three, "http://d:5000"], "http://a:5000");
        var moved = 0;
        for (var i = 0; i < 600; i++)
        {
            var old = before.Owners(DigestOf(i)).Select(o => before.Members[o]).ToHashSet();
            var now = after.Owners(DigestOf(i)).Select(o => after.Members[o]).ToHashSet();
            if (!old.SetEquals(now))
            {
                moved++;
                // The only change is that the new member took one place.
                Assert.Contains("http://d:5000", now);
                Assert.Single(old.Except(now));
            }
        }

        // About R/n = 2/4 of the blobs gain the new member as an owner.
        Assert.InRange(moved, 200, 400);
    }

    [Fact]
    public void MarkDown_SkipsTheMemberForTheDownTime_ThenItIsLiveAgain()
    {
        var time = new FakeTimeProvider();
        var members = Members(Three, "http://a:5000", time);
        members.MarkDown(1);
        members.MarkDown(0); // self is always live
        Assert.False(members.IsLive(1));
        Assert.True(members.IsLive(0));
        time.Advance(TimeSpan.FromSeconds(29));
        Assert.False(members.IsLive(1));
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.True(members.IsLive(1));
    }

    [Fact]
    public void Owners_MembersSpelledDifferently_RankedAsTrackersAndAgentsRankThem()
    {
        // One node id per member (RendezvousRing.NodeId), whichever way the operator wrote it.
        var spelled = Members(["HTTP://A:5000/", "http://b:5000//", " http://c:5000 "], "http://a:5000");
        var ring = new P2PRegistry.Core.Placement.RendezvousRing([.. Three.Select(P2PRegistry.Core.Placement.RendezvousRing.NodeId)]);

        Assert.Equal(Three, spelled.Members);
        Assert.Equal(0, spelled.Self);
        for (var i = 0; i < 50; i++)
        {
            Assert.Equal(ring.Rank(DigestOf(i).Value), spelled.Rank(DigestOf(i)));
        }
    }
}
