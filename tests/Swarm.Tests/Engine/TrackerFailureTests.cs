using P2PRegistry.Swarm.Tracking;
using P2PRegistry.Testing.Blobs;
using P2PRegistry.Testing.Fakes;
using P2PRegistry.Testing.FileSystem;

namespace P2PRegistry.Swarm.Tests.Engine;

public sealed class TrackerFailureTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Announce_TrackerThrowsAtFirst_DownloadCompletesOnceItAnswers()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(1_000_000, 256 * 1024);
        var tracker = new FakeTracker();
        var failures = 0;
        tracker.Fault = _ => Interlocked.Increment(ref failures) <= 4 ? throw new InvalidOperationException("tracker down") : Task.CompletedTask;
        await using var seed = await TestNode.StartAsync(tracker);
        await using var leecher = await TestNode.StartAsync(tracker);
        seed.Engine.Seed(blob.MetaInfo, blob.WriteTo(dir.Path, "seed"));

        var download = await leecher.Engine.StartDownloadAsync(blob.MetaInfo, dir.Combine("leech"));
        await download.Completion.WaitAsync(Timeout);

        Assert.True(failures > 4);
        Assert.Equal(blob.Content, File.ReadAllBytes(dir.Combine("leech")));
    }

    [Fact]
    public async Task Announce_TrackerHangs_TimesOutAndRecovers()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(1_000_000, 256 * 1024);
        var tracker = new FakeTracker();
        var hanging = 1;
        tracker.Fault = async ct =>
        {
            if (Volatile.Read(ref hanging) == 1)
            {
                await Task.Delay(System.Threading.Timeout.Infinite, ct);
            }
        };
        await using var seed = await TestNode.StartAsync(tracker, o => o.TrackerTimeout = TimeSpan.FromMilliseconds(300));
        await using var leecher = await TestNode.StartAsync(tracker, o => o.TrackerTimeout = TimeSpan.FromMilliseconds(300));
        seed.Engine.Seed(blob.MetaInfo, blob.WriteTo(dir.Path, "seed"));
        var download = await leecher.Engine.StartDownloadAsync(blob.MetaInfo, dir.Combine("leech"));

        // Several announces time out (the loop keeps going) before the tracker comes back.
        for (var i = 0; i < 200 && tracker.AnnounceCount < 6; i++)
        {
            await Task.Delay(50);
        }

        Assert.True(tracker.AnnounceCount >= 6, $"only {tracker.AnnounceCount} announces while the tracker hung");
        Assert.False(download.IsComplete);
        Volatile.Write(ref hanging, 0);
        await download.Completion.WaitAsync(Timeout);
        Assert.Equal(blob.Content, File.ReadAllBytes(dir.Combine("leech")));
    }

    [Fact]
    public async Task Announce_Lifecycle_StartedCompletedStopped()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(600_000, 256 * 1024);
        var tracker = new FakeTracker();
        var leecherTracker = new RecordingTracker(tracker);
        await using var seed = await TestNode.StartAsync(tracker);
        var leecher = await TestNode.StartAsync(leecherTracker);
        seed.Engine.Seed(blob.MetaInfo, blob.WriteTo(dir.Path, "seed"));
        var download = await leecher.Engine.StartDownloadAsync(blob.MetaInfo, dir.Combine("leech"));
        await download.Completion.WaitAsync(Timeout);
        for (var i = 0; i < 200 && !leecherTracker.Events.Contains(AnnounceEvent.Completed); i++)
        {
            await Task.Delay(25);
        }

        await leecher.DisposeAsync();
        var events = leecherTracker.Events.ToList();
        Assert.Equal(AnnounceEvent.Started, events[0]);
        Assert.Contains(AnnounceEvent.Completed, events);
        Assert.Equal(AnnounceEvent.Stopped, events[^1]);
        Assert.Single(events, AnnounceEvent.Completed);
    }

    private sealed class RecordingTracker(ITrackerClient inner) : ITrackerClient
    {
        private readonly Lock _lock = new();
        private readonly List<AnnounceEvent> _events = [];

        public IReadOnlyList<AnnounceEvent> Events
        {
            get
            {
                lock (_lock)
                {
                    return [.. _events];
                }
            }
        }

        public Task<AnnounceResult> AnnounceAsync(P2PRegistry.Core.MetaInfos.InfoHash infoHash, P2PRegistry.Core.Content.Digest digest, P2PRegistry.Core.Wire.PeerId peerId, int port, bool complete, long bytesLeft, AnnounceEvent announceEvent, CancellationToken cancellationToken)
        {
            lock (_lock)
            {
                _events.Add(announceEvent);
            }

            return inner.AnnounceAsync(infoHash, digest, peerId, port, complete, bytesLeft, announceEvent, cancellationToken);
        }
    }
}
