using P2PRegistry.Agent.Tests.Support;
using P2PRegistry.Testing.Fakes;
using P2PRegistry.Testing.FileSystem;

namespace P2PRegistry.Agent.Tests.Blobs;

/// <summary>What a restarted agent does with the partial downloads it finds.</summary>
public sealed class DownloadSweepTests : IDisposable
{
    private readonly TempDirectory _dir = new("agent-sweep");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task AtStart_StaleAndOriginStreamsAreRemoved_RecentPartialDownloadsStayForResuming()
    {
        var download = Directory.CreateDirectory(_dir.Combine("data", "download")).FullName;
        string Write(string name, TimeSpan age)
        {
            var path = Path.Combine(download, name);
            File.WriteAllBytes(path, [1, 2, 3]);
            File.SetLastWriteTimeUtc(path, DateTime.UtcNow - age);
            return path;
        }

        var recent = Write(new string('a', 64), TimeSpan.FromHours(1));
        var recentPieces = Write(new string('a', 64) + ".pieces", TimeSpan.FromHours(1));
        var stale = Write(new string('b', 64), TimeSpan.FromDays(3));
        var stalePieces = Write(new string('b', 64) + ".pieces", TimeSpan.FromDays(3));
        var orphanPieces = Write(new string('c', 64) + ".pieces", TimeSpan.FromMinutes(1));
        var originStream = Write(new string('d', 64) + ".origin", TimeSpan.FromMinutes(1));

        // Temp files of a resume file that a crash left halfway through a save: they go with their download, or alone.
        var staleTemp = Write(new string('b', 64) + ".pieces.tmp", TimeSpan.FromDays(3));
        var orphanTemp = Write(new string('e', 64) + ".pieces.tmp", TimeSpan.FromMinutes(1));
        var recentTemp = Write(new string('a', 64) + ".pieces.tmp", TimeSpan.FromHours(1));

        await using var agent = await TestAgent.StartAsync(_dir.Combine("data"), new FakeMetaInfoSource(), new FakeTracker(), settings: "--Agent:PartialDownloadRetention=1.00:00:00");
        for (var i = 0; i < 100 && !agent.Logs.Contains(12); i++)
        {
            await Task.Delay(50);
        }

        Assert.True(File.Exists(recent) && File.Exists(recentPieces), "a recent partial download was removed");
        Assert.False(File.Exists(stale) || File.Exists(stalePieces), "a stale partial download was kept");
        Assert.False(File.Exists(orphanPieces), "a bitfield without its data file was kept");
        Assert.False(File.Exists(originStream), "an origin stream (which cannot resume) was kept");
        Assert.False(File.Exists(staleTemp) || File.Exists(orphanTemp), "a temp resume file was kept without a download to resume");
        Assert.True(File.Exists(recentTemp), "the temp file of a recent download's resume file is the download's to replace");
        Assert.True(agent.Logs.Contains(12, "Removed 6"));
    }
}
