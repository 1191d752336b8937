using P2PRegistry.Swarm.Announcing;

namespace P2PRegistry.Swarm.Tests.Announcing;

public sealed class AnnounceScheduleTests
{
    private sealed record Item(int Id);

    [Fact]
    public void TryTakeDue_ItemsInDueOrder_OnlyThoseDue()
    {
        var schedule = new AnnounceSchedule<Item>();
        var items = Enumerable.Range(0, 100).Select(i => new Item(i)).ToList();
        var random = new Random(3);
        var dues = items.ToDictionary(i => i, _ => (long)random.Next(0, 10_000));
        foreach (var item in items)
        {
            schedule.Schedule(item, dues[item]);
        }

        Assert.Equal(dues.Values.Min(), schedule.NextDue);
        var taken = new List<Item>();
        while (schedule.TryTakeDue(5_000, out var item))
        {
            taken.Add(item);
        }

        Assert.Equal(items.Where(i => dues[i] <= 5_000).OrderBy(i => dues[i]).Select(i => dues[i]), taken.Select(i => dues[i]));
        Assert.All(taken, i => Assert.False(schedule.Contains(i)));
        Assert.Equal(100 - taken.Count, schedule.Count);
        Assert.True(schedule.NextDue > 5_000);
    }

    [Fact]
    public void Schedule_MovedAndRemovedItems_ComeOnceAtTheirLastTime()
    {
        var schedule = new AnnounceSchedule<Item>();
        var a = new Item(1);
        var b = new Item(2);
        var c = new Item(3);
        schedule.Schedule(a, 10);
        schedule.Schedule(b, 20);
        schedule.Schedule(c, 30);
        schedule.Schedule(a, 40); // later
        schedule.Schedule(c, 5);  // earlier
        Assert.True(schedule.Remove(b));
        Assert.False(schedule.Remove(b));

        Assert.True(schedule.TryTakeDue(100, out var first));
        Assert.True(schedule.TryTakeDue(100, out var second));
        Assert.False(schedule.TryTakeDue(100, out _));
        Assert.Same(c, first);
        Assert.Same(a, second);
        Assert.Null(schedule.NextDue);
    }

    [Fact]
    public void Schedule_ManyMoves_QueueStaysBounded()
    {
        var schedule = new AnnounceSchedule<Item>();
        var items = Enumerable.Range(0, 50).Select(i => new Item(i)).ToList();
        for (var round = 0; round < 1000; round++)
        {
            foreach (var item in items)
            {
                schedule.Schedule(item, round);
            }
        }

        Assert.Equal(50, schedule.Count);
        Assert.True(schedule.QueueLength <= (2 * 50) + 65, $"queue of {schedule.QueueLength} for 50 items");
    }

    [Fact]
    public void Spread_ItemsDueLater_EvenlyOverTheWindowInTheirOrder()
    {
        var schedule = new AnnounceSchedule<Item>();
        var backingOff = Enumerable.Range(0, 300).Select(i => new Item(i)).ToList();
        var healthy = new Item(-1);
        var soon = new Item(-2);
        var random = new Random(11);
        foreach (var item in backingOff)
        {
            schedule.Schedule(item, 100_000 + random.Next(0, 1_000_000));
        }

        schedule.Schedule(healthy, 500_000);
        schedule.Schedule(soon, 50);
        var before = backingOff.ToDictionary(i => i, i => schedule.DueOf(i)!.Value);

        var moved = schedule.Spread(0, 6_000, i => i.Id >= 0 || i.Id == -2, random.NextDouble);

        Assert.Equal(300, moved);
        Assert.Equal(500_000, schedule.DueOf(healthy)); // not selected
        Assert.Equal(50, schedule.DueOf(soon));         // due within the window already
        var after = backingOff.Select(i => schedule.DueOf(i)!.Value).ToList();
        Assert.All(after, d => Assert.InRange(d, 0, 5_999));

        // Evenly: each 1/10 of the window holds 30 of them (stratified, so exactly); order kept.
        foreach (var group in after.GroupBy(d => d / 600))
        {
            Assert.Equal(30, group.Count());
        }

        var order = backingOff.OrderBy(i => before[i]).Select(i => schedule.DueOf(i)!.Value).ToList();
        Assert.Equal(order.Order(), order);
    }

    [Fact]
    public void Spread_NothingSelected_MovesNothing()
    {
        var schedule = new AnnounceSchedule<Item>();
        schedule.Schedule(new Item(1), 1_000);
        Assert.Equal(0, schedule.Spread(0, 100, _ => false, () => 0.5));
        Assert.Equal(1_000, schedule.NextDue);
    }
}
