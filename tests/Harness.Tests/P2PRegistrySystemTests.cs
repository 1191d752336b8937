using P2PRegistry.Core.Bencoding;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Harness.Lab;
using P2PRegistry.Harness.Systems;
using Xunit.Abstractions;

namespace P2PRegistry.Harness.Tests;

/// <summary>The part of the p2pregistry system that exists: Origin and Tracker on a namespace seed host.</summary>
[Trait("Category", "Slow")]
public sealed class P2PRegistrySystemTests(ITestOutputHelper output)
{
    [Fact]
    public async Task StartSeedSide_OnNamespaces_OriginServesBlobAndTrackerServesItsTorrent()
    {
        Assert.True(Environment.UserName == "root", "This test creates network namespaces and must run as root (CI does).");
        var run = RunId.New();
        var dir = Directory.CreateDirectory(HarnessRunner.RunDirectoryFor(run)).FullName;
        var processes = new ProcessGroup(Path.Combine(dir, "pids"));
        var log = new StringWriter();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await using var testbed = await NamespaceTestbed.CreateAsync(run, 1, 100, timeout.Token);
        var system = new P2PRegistrySystem();
        var context = new SystemContext
        {
            Testbed = testbed,
            Clients = testbed.Clients,
            Blob = await HarnessRunner.MakeBlobAsync(Path.Combine(dir, "blob"), 3 << 20, timeout.Token),
            WorkDirectory = Directory.CreateDirectory(Path.Combine(dir, "work")).FullName,
            Processes = processes,
            PieceLength = PieceLength.For(3 << 20),
            Timeout = TimeSpan.FromSeconds(60),
            Log = log,
        };
        try
        {
            var torrent = await system.StartSeedSideAsync(context, timeout.Token);

            var info = ((BencodeDictionary)BencodeDecoder.Decode(torrent)).GetDictionary("info")!;
            Assert.True(info.TryGetInteger("piece length", out var pieceLength));
            Assert.Equal(context.PieceLength, pieceLength);
            Assert.True(info.TryGetInteger("length", out var length));
            Assert.Equal(context.Blob.Length, length);

            // A client host pulls the blob from the Origin over its shaped link.
            var copy = Path.Combine(context.WorkDirectory, "copy");
            var pulled = await testbed.Clients[0].RunAsync("curl", ["-fsS", "-o", copy, $"{system.OriginUrl}/v2/{P2PRegistrySystem.Repository}/blobs/{context.Blob.Digest}"], timeout.Token);
            Assert.True(pulled.ExitCode == 0, pulled.StandardError);
            Assert.Equal(context.Blob.Sha256Hex, await HarnessRunner.Sha256HexAsync(copy, timeout.Token));
        }
        finally
        {
            await system.TeardownAsync(context);
            output.WriteLine(log.ToString());
            foreach (var name in new[] { "origin.log", "tracker.log" }.Select(n => Path.Combine(context.WorkDirectory, n)).Where(File.Exists))
            {
                output.WriteLine(File.ReadAllText(name));
            }

            Directory.Delete(dir, recursive: true);
        }

        Assert.Empty(LeftBehind.ProcessesMentioning(run.RunPrefix));
    }
}
