using System.Collections.Concurrent;
using System.Diagnostics;
using P2PRegistry.Contracts.Tracker;
using P2PRegistry.Testing;
using P2PRegistry.Testing.Fakes;
using P2PRegistry.Testing.FileSystem;

namespace P2PRegistry.Tracker.Tests.InProcess;

/// <summary>A BitTorrent client nobody here wrote, announcing to our BEP 3 endpoint with our .torrent.</summary>
public sealed class Aria2cAnnounceTests
{
    [Fact]
    [Trait("Category", TestCategories.Integration)]
    public async Task Aria2c_TorrentFromTracker_AnnouncesAndIsHandedToOtherPeers()
    {
        await using var origin = await FakeOrigin.StartAsync();
        await using var tracker = await TrackerHost.StartAsync(origin.Url, TrackerHost.LoopbackTrusted);
        var metaInfo = TestMetaInfos.Create();
        origin.Serve(metaInfo);
        using var directory = new TempDirectory("tracker-aria2c");
        Process? aria2c = null;
        var output = new ConcurrentQueue<string>();
        try
        {
            var torrentPath = directory.Combine("blob.torrent");
            await File.WriteAllBytesAsync(torrentPath, await tracker.Http.GetByteArrayAsync($"p2p/v1/torrent/{metaInfo.Digest}"));
            var listenPort = TrackerHost.UnusedPort();

            var start = new ProcessStartInfo("aria2c")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var arg in new[]
            {
                $"--dir={directory.Path}", "--enable-dht=false", "--enable-dht6=false", "--bt-enable-lpd=false",
                "--enable-peer-exchange=false", "--disable-ipv6=true", "--bt-tracker-interval=2",
                "--bt-tracker-connect-timeout=5", "--bt-tracker-timeout=5", "--file-allocation=none", "--seed-ratio=0.0",
                "--bt-max-peers=0", "--bt-request-peer-speed-limit=0", $"--listen-port={listenPort}",
                "--summary-interval=0", "--console-log-level=notice", torrentPath,
            })
            {
                start.ArgumentList.Add(arg);
            }

            aria2c = Process.Start(start) ?? throw new InvalidOperationException("aria2c did not start.");
            aria2c.OutputDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
            aria2c.ErrorDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
            aria2c.BeginOutputReadLine();
            aria2c.BeginErrorReadLine();

            // Another peer of the swarm asks until aria2c's announce shows up in its handout (bounded: 30 s).
            Peer? seen = null;
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (seen is null && DateTime.UtcNow < deadline && !aria2c.HasExited)
            {
                var response = await tracker.Client.AnnounceAsync(Announces.Request(metaInfo.InfoHash, 50), deadline: DateTime.UtcNow.AddSeconds(10));
                seen = response.Peers.FirstOrDefault(p => p.Port == listenPort);
                if (seen is null)
                {
                    await Task.Delay(200);
                }
            }

            Assert.True(seen is not null, $"aria2c's announce never reached the swarm. aria2c said:\n{string.Join('\n', output)}");
            Assert.Equal("127.0.0.1", seen.Ip);
            Assert.False(seen.Complete); // it has none of the data
            Assert.Equal("A2-"u8.ToArray(), seen.PeerId.ToByteArray()[..3]); // aria2c's peer id prefix
        }
        finally
        {
            if (aria2c is not null)
            {
                if (!aria2c.HasExited)
                {
                    aria2c.Kill();
                    await aria2c.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
                }

                aria2c.Dispose();
            }
        }
    }
}
