namespace P2PRegistry.Integration.Tests.Swarm;

/// <summary>aria2c, a BitTorrent client nobody here wrote, in a closed loopback swarm (flags from LAB.md).</summary>
internal static class Aria2c
{
    public static Task<ManagedProcess> StartAsync(string torrent, string directory, Action<string>? onOutputLine, params string[] extra)
    {
        var options = new ManagedProcessOptions("aria2c",
        [
            "--enable-dht=false", "--enable-dht6=false", "--bt-enable-lpd=false", "--enable-peer-exchange=false",
            "--disable-ipv6=true", "--bt-tracker-interval=1", "--bt-tracker-connect-timeout=5", "--bt-tracker-timeout=5",
            "--file-allocation=none", "--bt-max-peers=0", "--bt-request-peer-speed-limit=0", "--summary-interval=0",
            "--console-log-level=warn", "--interface=127.0.0.1", $"--listen-port={FreePort.Next()}",
            "--follow-torrent=false", "--bt-stop-timeout=60", $"--dir={directory}",
            .. extra,
            torrent,
        ])
        {
            Name = "aria2c",
            OnOutputLine = onOutputLine,
            StopGracePeriod = TimeSpan.FromSeconds(3),
        };
        return ManagedProcess.StartAsync(options);
    }
}
