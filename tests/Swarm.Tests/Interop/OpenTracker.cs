using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Testing.FileSystem;

namespace P2PRegistry.Swarm.Tests.Interop;

/// <summary>
/// A real opentracker on 127.0.0.1. Debian's build tracks only whitelisted info hashes (one hex hash a
/// line) and chroots into its -d folder, so the whitelist lives there.
/// </summary>
internal sealed class OpenTracker : IAsyncDisposable
{
    private readonly ExternalProcess _process;

    private OpenTracker(ExternalProcess process, int port)
    {
        _process = process;
        Announce = new Uri($"http://127.0.0.1:{port}/announce");
    }

    public Uri Announce { get; }

    public static async Task<OpenTracker> StartAsync(TempDirectory dir, InfoHash infoHash)
    {
        var root = Directory.CreateDirectory(dir.Combine("opentracker")).FullName;
        File.WriteAllText(Path.Combine(root, "whitelist.txt"), infoHash.ToHex() + "\n");
        var port = ExternalProcess.FreePort();
        var process = ExternalProcess.Start("opentracker", ["-i", "127.0.0.1", "-p", port.ToString(), "-P", port.ToString(), "-d", root, "-w", "whitelist.txt"], root);
        var tracker = new OpenTracker(process, port);
        try
        {
            await ExternalProcess.WaitForPortAsync(port, TimeSpan.FromSeconds(10));
        }
        catch
        {
            await tracker.DisposeAsync();
            throw;
        }

        return tracker;
    }

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
