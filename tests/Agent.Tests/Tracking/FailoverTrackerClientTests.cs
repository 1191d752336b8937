using System.Diagnostics.Metrics;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using P2PRegistry.Agent.Tracking;
using P2PRegistry.Core.Content;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Core.Placement;
using P2PRegistry.Core.Wire;
using P2PRegistry.Swarm.Tracking;
using P2PRegistry.Testing.Blobs;

namespace P2PRegistry.Agent.Tests.Tracking;

/// <summary>Rendezvous choice, failover and passive health of the agent's tracker clients, with a fake clock.</summary>
public sealed class FailoverTrackerClientTests : IDisposable
{
    private static readonly InfoHash s_infoHash = InfoHash.Compute("failover"u8);
    private static readonly Digest s_digest = Digest.Compute("failover blob"u8);
    private static readonly PeerId s_peerId = PeerId.CreateRandom();
    private readonly FakeTimeProvider _time = new();
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly Dictionary<string, ScriptedTracker> _trackers;
    private readonly TrackerDirectory _directory;

    public FailoverTrackerClientTests()
    {
        _trackers = new[] { "http://t0:7001", "http://t1:7001", "http://t2:7001" }.ToDictionary(u => u, u => new ScriptedTracker(u));
        _directory = new TrackerDirectory([.. _trackers.Keys], url => _trackers[url].Endpoint(), new TrackerHealth(_time, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30)), NullLogger<TrackerDirectory>.Instance);
    }

    private FailoverTrackerClient Client() => new(_directory, new TrackingMetrics(_services.GetRequiredService<IMeterFactory>()), NullLogger<FailoverTrackerClient>.Instance);

    private FailoverMetaInfoSource MetaInfos() => new(_directory, new TrackingMetrics(_services.GetRequiredService<IMeterFactory>()), NullLogger<FailoverMetaInfoSource>.Instance);

    private Task<AnnounceResult> AnnounceAsync(CancellationToken cancellationToken = default) =>
        Client().AnnounceAsync(s_infoHash, s_digest, s_peerId, 6881, false, 100, AnnounceEvent.None, cancellationToken);

    /// <summary>The trackers in the ring's order for a key (a blob's: its digest): first is the blob's tracker.</summary>
    private List<ScriptedTracker> Ranked(byte[] key)
    {
        var urls = _trackers.Keys.ToList();
        return [.. new RendezvousRing(urls).Rank(key).Select(i => _trackers[urls[i]])];
    }

    [Fact]
    public async Task AnnounceAsync_AllHealthy_GoesOnlyToTheBlobsRendezvousTracker()
    {
        var ranked = Ranked(Encoding.UTF8.GetBytes(s_digest.Value));

        for (var i = 0; i < 3; i++)
        {
            await AnnounceAsync();
        }

        Assert.Equal([3, 0, 0], ranked.Select(t => t.Calls));
    }

    [Fact]
    public async Task AnnounceAsync_FirstUnreachable_FailsOverToTheNextAndSkipsTheFailedOneForAWhile()
    {
        var ranked = Ranked(Encoding.UTF8.GetBytes(s_digest.Value));
        ranked[0].Behaviour = TrackerBehaviour.Unreachable;

        var result = await AnnounceAsync();
        await AnnounceAsync();

        Assert.Single(result.Peers);
        Assert.Equal([1, 2, 0], ranked.Select(t => t.Calls)); // the second announce did not try the failed tracker

        // Back after its time out (10 s): tried first again, and it answers.
        ranked[0].Behaviour = TrackerBehaviour.Answer;
        _time.Advance(TimeSpan.FromSeconds(10));
        await AnnounceAsync();
        Assert.Equal([2, 2, 0], ranked.Select(t => t.Calls));
    }

    [Fact]
    public async Task AnnounceAsync_Timeout_FailsOverToo()
    {
        var ranked = Ranked(Encoding.UTF8.GetBytes(s_digest.Value));
        ranked[0].Behaviour = TrackerBehaviour.Timeout;

        await AnnounceAsync();

        Assert.Equal([1, 1, 0], ranked.Select(t => t.Calls));
        Assert.False(_directory.Health.IsAvailable(ranked[0].Url));
    }

    [Fact]
    public async Task AnnounceAsync_Refused_IsAnAnswerNotFailedOver()
    {
        var ranked = Ranked(Encoding.UTF8.GetBytes(s_digest.Value));
        ranked[0].Behaviour = TrackerBehaviour.Refuse;

        await Assert.ThrowsAsync<TrackerException>(() => AnnounceAsync());

        Assert.Equal([1, 0, 0], ranked.Select(t => t.Calls));
        Assert.True(_directory.Health.IsAvailable(ranked[0].Url));
    }

    [Fact]
    public async Task AnnounceAsync_AllUnreachable_OnePassThenTheSkippedOnesAreStillTriedAsALastResort()
    {
        foreach (var tracker in _trackers.Values)
        {
            tracker.Behaviour = TrackerBehaviour.Unreachable;
        }

        await Assert.ThrowsAsync<TrackerException>(() => AnnounceAsync());
        Assert.All(_trackers.Values, t => Assert.Equal(1, t.Calls)); // one pass, no retries

        var ranked = Ranked(Encoding.UTF8.GetBytes(s_digest.Value));
        ranked[2].Behaviour = TrackerBehaviour.Answer;
        var result = await AnnounceAsync(); // every tracker is skipped, yet all are tried rather than none
        Assert.Single(result.Peers);
    }

    [Fact]
    public async Task AnnounceAsync_Cancelled_DoesNotFailOver()
    {
        var ranked = Ranked(Encoding.UTF8.GetBytes(s_digest.Value));
        ranked[0].Behaviour = TrackerBehaviour.Unreachable;
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAsync<TrackerException>(() => AnnounceAsync(cancelled.Token));

        Assert.Equal([1, 0, 0], ranked.Select(t => t.Calls));
    }

    [Fact]
    public async Task AnnounceAsync_AndGetMetaInfoAsync_OfOneBlob_GoToTheSameTracker()
    {
        // Several blobs: keyed apart (info hash vs digest), some would surely land on different trackers.
        for (var seed = 10; seed < 30; seed++)
        {
            var blob = TestBlob.Create(1000, 16 * 1024, seed: seed);
            foreach (var tracker in _trackers.Values)
            {
                tracker.MetaInfo = blob.MetaInfo;
            }

            var before = _trackers.Values.Select(t => t.Calls).ToList();
            Assert.NotNull(await MetaInfos().GetMetaInfoAsync(blob.Digest, "", default));
            var afterMetaInfo = _trackers.Values.Select(t => t.Calls).ToList();
            await Client().AnnounceAsync(blob.MetaInfo.InfoHash, blob.Digest, s_peerId, 6881, false, 100, AnnounceEvent.Started, default);
            var afterAnnounce = _trackers.Values.Select(t => t.Calls).ToList();

            var metaInfoTracker = Enumerable.Range(0, before.Count).Single(i => afterMetaInfo[i] != before[i]);
            var announceTracker = Enumerable.Range(0, before.Count).Single(i => afterAnnounce[i] != afterMetaInfo[i]);
            Assert.Equal(metaInfoTracker, announceTracker);
        }
    }

    [Fact]
    public async Task GetMetaInfoAsync_RanksByDigestAndFailsOverWhenUnreachable()
    {
        var blob = TestBlob.Create(1000, 16 * 1024, seed: 3);
        var ranked = Ranked(Encoding.UTF8.GetBytes(blob.Digest.Value));
        foreach (var tracker in ranked)
        {
            tracker.MetaInfo = blob.MetaInfo;
        }

        ranked[0].Behaviour = TrackerBehaviour.Unreachable;

        var metaInfo = await MetaInfos().GetMetaInfoAsync(blob.Digest, "", default);

        Assert.Equal(blob.MetaInfo.InfoHash, metaInfo!.InfoHash);
        Assert.Equal([1, 1, 0], ranked.Select(t => t.Calls));
    }

    [Fact]
    public async Task GetMetaInfoAsync_NotFound_IsAnAnswer()
    {
        var blob = TestBlob.Create(1000, 16 * 1024, seed: 4);
        var ranked = Ranked(Encoding.UTF8.GetBytes(blob.Digest.Value));
        ranked[0].Behaviour = TrackerBehaviour.Refuse;

        Assert.Null(await MetaInfos().GetMetaInfoAsync(blob.Digest, "", default));
        Assert.Equal([1, 0, 0], ranked.Select(t => t.Calls));
    }

    public void Dispose()
    {
        _directory.Dispose();
        _services.Dispose();
    }
}
