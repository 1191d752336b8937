using Microsoft.Extensions.Time.Testing;
using P2PRegistry.Swarm.Choking;

namespace P2PRegistry.Swarm.Tests.Choking;

public sealed class ChokePolicyTests
{
    private static readonly TimeSpan Rotation = TimeSpan.FromSeconds(10);

    private readonly FakeTimeProvider _time = new();
    private readonly List<ChokeChange> _changes = [];

    private ChokePolicy Create(int slots, params int[] peers)
    {
        var policy = new ChokePolicy(slots, Rotation, _time);
        foreach (var peer in peers)
        {
            policy.Add(peer);
        }

        return policy;
    }

    private ChokeChange[] Take()
    {
        var taken = _changes.ToArray();
        _changes.Clear();
        return taken;
    }

    [Fact]
    public void NewPeer_IsChokedUntilInterested()
    {
        var policy = Create(2, 1);
        Assert.True(policy.IsChoking(1));
        policy.OnInterested(1, _changes);
        Assert.Equal([new ChokeChange(1, Choke: false)], Take());
        Assert.False(policy.IsChoking(1));
        Assert.Equal(1, policy.UnchokedCount);
    }

    [Fact]
    public void Interested_NoFreeSlot_Waits()
    {
        var policy = Create(1, 1, 2);
        policy.OnInterested(1, _changes);
        policy.OnInterested(2, _changes);
        Assert.Equal([new ChokeChange(1, Choke: false)], Take());
        Assert.True(policy.IsChoking(2));
        Assert.True(policy.AnyoneWaiting);
    }

    [Fact]
    public void Interested_SlotHeldByNotInterestedPeer_TakesIt()
    {
        var policy = Create(1, 1, 2);
        policy.OnInterested(1, _changes);
        policy.OnNotInterested(1, _changes);
        Take();

        // Nobody waits: the not-interested peer keeps its slot (choking it raced with its next requests).
        Assert.False(policy.IsChoking(1));

        policy.OnInterested(2, _changes);
        Assert.Equal([new ChokeChange(1, Choke: true), new ChokeChange(2, Choke: false)], Take());
    }

    [Fact]
    public void NotInterested_WhileAPeerWaits_GivesUpItsSlot()
    {
        var policy = Create(1, 1, 2);
        policy.OnInterested(1, _changes);
        policy.OnInterested(2, _changes);
        Take();
        policy.OnNotInterested(1, _changes);
        Assert.Equal([new ChokeChange(1, Choke: true), new ChokeChange(2, Choke: false)], Take());
    }

    [Fact]
    public void Remove_UnchokedPeer_SlotGoesToLongestWaiting()
    {
        var policy = Create(1, 1, 2, 3);
        policy.OnInterested(1, _changes);
        _time.Advance(TimeSpan.FromSeconds(1));
        policy.OnInterested(3, _changes);
        _time.Advance(TimeSpan.FromSeconds(1));
        policy.OnInterested(2, _changes);
        Take();
        policy.Remove(1, _changes);
        Assert.Equal([new ChokeChange(3, Choke: false)], Take());
        Assert.Equal(1, policy.UnchokedCount);
    }

    [Fact]
    public void Tick_PeerWaits_SlotHolderThatTookLeastRotatesOut()
    {
        var policy = Create(2, 1, 2, 3);
        policy.OnInterested(1, _changes);
        policy.OnInterested(2, _changes);
        policy.OnInterested(3, _changes);
        Take();

        // Peer 1 takes data; peer 2 holds its slot and asks for nothing.
        policy.OnUploaded(1, 1_000_000);
        _time.Advance(Rotation);
        policy.OnTick(_changes);
        Assert.Equal([new ChokeChange(2, Choke: true), new ChokeChange(3, Choke: false)], Take());
    }

    [Fact]
    public void Tick_BeforeTheRotationInterval_NothingChanges()
    {
        var policy = Create(1, 1, 2);
        policy.OnInterested(1, _changes);
        policy.OnInterested(2, _changes);
        Take();
        _time.Advance(Rotation - TimeSpan.FromSeconds(1));
        policy.OnTick(_changes);
        Assert.Empty(Take());
    }

    [Fact]
    public void Tick_NobodyWaits_NothingRotates()
    {
        var policy = Create(2, 1, 2);
        policy.OnInterested(1, _changes);
        policy.OnInterested(2, _changes);
        Take();
        for (var i = 0; i < 5; i++)
        {
            _time.Advance(Rotation);
            policy.OnTick(_changes);
        }

        Assert.Empty(Take());
    }

    [Fact]
    public void Tick_SlotHolderUnchokedJustNow_KeepsItsSlot()
    {
        var policy = Create(1, 1, 2, 3);
        policy.OnInterested(1, _changes);
        policy.OnInterested(2, _changes);
        _time.Advance(Rotation);
        policy.OnTick(_changes); // 1 out, 2 in
        policy.OnInterested(3, _changes);
        Assert.Equal([new ChokeChange(1, Choke: false), new ChokeChange(1, Choke: true), new ChokeChange(2, Choke: false)], Take());

        // 2 got its slot at this tick; the next tick after a whole interval may move it, not sooner.
        _time.Advance(TimeSpan.FromSeconds(5));
        policy.OnTick(_changes);
        Assert.Empty(Take());
        _time.Advance(TimeSpan.FromSeconds(5));
        policy.OnTick(_changes);
        Assert.Equal([new ChokeChange(2, Choke: true), new ChokeChange(1, Choke: false)], Take());
    }

    [Fact]
    public void HoardingPeers_EveryWaitingPeerGetsASlotWithinAFewRotations()
    {
        // 4 slots held by peers that never ask for a block; 4 more wait: each rotation frees one slot.
        var policy = Create(4, 1, 2, 3, 4, 5, 6, 7, 8);
        for (var peer = 1; peer <= 8; peer++)
        {
            policy.OnInterested(peer, _changes);
        }

        var served = new HashSet<int>();
        for (var round = 0; round < 8; round++)
        {
            _time.Advance(Rotation);
            policy.OnTick(_changes);
            foreach (var change in Take())
            {
                if (!change.Choke)
                {
                    served.Add(change.Peer);
                }
            }
        }

        Assert.Superset(new HashSet<int> { 5, 6, 7, 8 }, served);
        Assert.Equal(4, policy.UnchokedCount);
    }
}
