using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json;
using P2PRegistry.Core.Bencoding;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Harness.Lab;

namespace P2PRegistry.Harness.Systems;

/// <summary>
/// A mature BitTorrent swarm: opentracker and an aria2c seeder on the seed host, one aria2c leecher per client,
/// with a .torrent from mktorrent at the piece length P2PRegistry would choose. Leechers keep seeding to each other
/// after they finish (seed ratio 0 = forever) until every client is done.
/// </summary>
internal sealed class Aria2cSystem : ISystemUnderTest
{
    private const int TrackerPort = 6969;
    private const int PeerPort = 6881;
    private const int RpcPort = 6800;

    private ProcessGroup.Tracked? _tracker;
    private ProcessGroup.Tracked? _seeder;
    private List<ProcessGroup.Tracked> _leechers = [];
    private string _torrent = "";
    private int _rpcPort;

    public string Name => "aria2c";

    public string Description => "opentracker + aria2c seeder on the seed host; one aria2c leecher per client (mktorrent, P2PRegistry's piece length)";

    public async Task<Availability> CheckAvailableAsync(CancellationToken cancellationToken) =>
        await Tools.MissingAsync(["aria2c", "mktorrent", "opentracker", "curl"], cancellationToken).ConfigureAwait(false) is { } missing
            ? Availability.No(missing)
            : Availability.Yes;

    /// <summary>The flags LAB.md found to work in a closed swarm: no DHT, LPD or PEX; the tracker is the only source of peers.</summary>
    public static IReadOnlyList<string> CommonFlags(int listenPort) =>
    [
        "--enable-dht=false", "--enable-dht6=false", "--bt-enable-lpd=false", "--enable-peer-exchange=false",
        "--disable-ipv6=true", "--bt-tracker-interval=2", "--bt-tracker-connect-timeout=5", "--bt-tracker-timeout=5",
        "--file-allocation=none", "--seed-ratio=0.0", "--bt-max-peers=0", "--bt-request-peer-speed-limit=0",
        "--summary-interval=0", "--console-log-level=warn", "--auto-save-interval=0",
        "--listen-port=" + listenPort.ToString(CultureInfo.InvariantCulture),
    ];

    public async Task SetupAsync(SystemContext context, CancellationToken cancellationToken)
    {
        var seed = context.Seed;
        var work = context.WorkDirectory;
        var trackerPort = context.Testbed.Port(seed, TrackerPort);
        var announce = $"http://{seed.Address}:{trackerPort}/announce";

        var seedDir = Directory.CreateDirectory(Path.Combine(work, "seed")).FullName;
        var seedFile = Path.Combine(seedDir, "blob");
        await Shell.CheckAsync("ln", [context.Blob.Path, seedFile], cancellationToken).ConfigureAwait(false);
        _torrent = Path.Combine(work, "blob.torrent");
        var log2 = BitOperations.Log2((uint)context.PieceLength);
        await Shell.CheckAsync("mktorrent", ["-a", announce, "-l", log2.ToString(CultureInfo.InvariantCulture), "-o", _torrent, seedFile], cancellationToken, TimeSpan.FromMinutes(5)).ConfigureAwait(false);
        var infoHash = ReadInfoHash(File.ReadAllBytes(_torrent));

        // Debian's opentracker tracks only whitelisted info hashes and chroots into -d, so the whitelist is named relative to it.
        var trackerDir = Directory.CreateDirectory(Path.Combine(work, "tracker")).FullName;
        File.WriteAllText(Path.Combine(trackerDir, "whitelist.txt"), infoHash.ToHex() + "\n");
        var port = trackerPort.ToString(CultureInfo.InvariantCulture);
        _tracker = context.Processes.Start("opentracker", seed,
            ["opentracker", "-i", seed.Address, "-p", port, "-P", port, "-d", trackerDir, "-w", "whitelist.txt"],
            Path.Combine(work, "tracker.log"));

        _rpcPort = context.Testbed.Port(seed, RpcPort);
        List<string> seeder = ["aria2c", .. CommonFlags(context.Testbed.Port(seed, PeerPort)), "--check-integrity=true",
            "--enable-rpc=true", "--rpc-listen-all=false", "--rpc-listen-port=" + _rpcPort.ToString(CultureInfo.InvariantCulture),
            "-d", seedDir];
        if (context.Testbed.ProgramRateLimit is { } limit)
        {
            seeder.Add("--max-overall-upload-limit=" + limit.ToString(CultureInfo.InvariantCulture));
        }

        seeder.Add(_torrent);
        _seeder = context.Processes.Start("aria2c-seeder", seed, seeder, Path.Combine(work, "seeder.log"));

        // Ready when the tracker counts one complete peer: the seeder verified the file and announced.
        var scrape = $"http://{seed.Address}:{trackerPort}/scrape?info_hash={UrlEncode(infoHash.ToArray())}";
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60) + TimeSpan.FromSeconds(context.Blob.Length / (200.0 * 1024 * 1024));
        while (true)
        {
            // To a file: the answer holds the raw 20-byte info hash, which text decoding would mangle.
            var scraped = Path.Combine(work, "scrape.bin");
            await seed.RunAsync("curl", ["-s", "--max-time", "2", "-o", scraped, scrape], cancellationToken).ConfigureAwait(false);
            if (File.Exists(scraped) && ScrapeComplete(File.ReadAllBytes(scraped)) >= 1)
            {
                break;
            }

            if (_seeder.Process.HasExited || _tracker.Process.HasExited)
            {
                throw new InvalidOperationException($"The aria2c seeder or opentracker exited during setup; see {work}/seeder.log and tracker.log.");
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("The aria2c seeder did not announce itself as complete in time.");
            }

            await Task.Delay(200, cancellationToken).ConfigureAwait(false);
        }

        context.Log.WriteLine($"    seeder ready, info hash {infoHash.ToHex()}, piece length {context.PieceLength / 1024} KiB");
    }

    public async Task<IReadOnlyList<ClientResult>> FetchAtOnceAsync(SystemContext context, CancellationToken cancellationToken)
    {
        var clients = new List<ClientFleet.Client>();
        foreach (var host in context.Clients)
        {
            var dir = Directory.CreateDirectory(Path.Combine(context.WorkDirectory, host.Name)).FullName;
            var done = Path.Combine(context.WorkDirectory, host.Name + ".done");
            List<string> command = ["aria2c", .. CommonFlags(context.Testbed.Port(host, PeerPort)), "-d", dir,
                "--on-bt-download-complete=" + ClientFleet.WriteHook(context.WorkDirectory, done)];
            if (context.Testbed.ProgramRateLimit is { } limit)
            {
                var text = limit.ToString(CultureInfo.InvariantCulture);
                command.AddRange(["--max-overall-download-limit=" + text, "--max-overall-upload-limit=" + text]);
            }

            command.Add(_torrent);
            clients.Add(new ClientFleet.Client(host, command, Path.Combine(dir, "blob"), done));
        }

        var outcome = await ClientFleet.RunAsync(context, clients, ClientFleet.Completion.Hook, cancellationToken).ConfigureAwait(false);
        _leechers = [.. outcome.Processes];
        return outcome.Results;
    }

    public async Task<ServerFigures> CollectAsync(SystemContext context, CancellationToken cancellationToken)
    {
        double? cpu = (_seeder is null ? 0 : ProcessCpu.ReadSeconds(_seeder.Pid) ?? 0) + (_tracker is null ? 0 : ProcessCpu.ReadSeconds(_tracker.Pid) ?? 0);
        long? uploaded = null;
        if (_seeder is not null)
        {
            // aria2's JSON-RPC: the seeder's uploadLength is the payload it sent (no protocol or TCP overhead).
            var body = """{"jsonrpc":"2.0","id":"h","method":"aria2.tellActive","params":[["uploadLength"]]}""";
            var answer = await context.Seed.RunAsync("curl", ["-s", "--max-time", "5", "-d", body, $"http://127.0.0.1:{_rpcPort}/jsonrpc"], cancellationToken).ConfigureAwait(false);
            try
            {
                using var json = JsonDocument.Parse(answer.StandardOutput);
                uploaded = json.RootElement.GetProperty("result").EnumerateArray()
                    .Sum(e => long.Parse(e.GetProperty("uploadLength").GetString()!, CultureInfo.InvariantCulture));
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
            {
                context.Log.WriteLine($"    could not read the seeder's upload count: {e.Message}");
            }
        }

        return new ServerFigures(cpu, uploaded);
    }

    public async Task TeardownAsync(SystemContext context)
    {
        await context.Processes.StopAllAsync(TimeSpan.FromSeconds(3)).ConfigureAwait(false);
        _tracker = null;
        _seeder = null;
        _leechers = [];
    }

    /// <summary>SHA-1 of the bencoded info dictionary exactly as mktorrent wrote it (BEP 3).</summary>
    public static InfoHash ReadInfoHash(byte[] torrent)
    {
        var root = BencodeDecoder.Decode(torrent) as BencodeDictionary ?? throw new InvalidDataException("A .torrent is a dictionary.");
        var info = root.GetDictionary("info") ?? throw new InvalidDataException("The .torrent has no info dictionary.");
        return InfoHash.Compute(info.Raw.Span);
    }

    /// <summary>BEP 48 scrape: d5:filesd20:&lt;info hash&gt;d8:completei&lt;n&gt;e…eee; the complete count of the one torrent, or 0.</summary>
    public static long ScrapeComplete(byte[] answer)
    {
        try
        {
            if (BencodeDecoder.Decode(answer) is BencodeDictionary root && root.GetDictionary("files") is { } files)
            {
                foreach (var entry in files.Entries.Values)
                {
                    if (entry is BencodeDictionary stats && stats.TryGetInteger("complete", out var complete))
                    {
                        return complete;
                    }
                }
            }
        }
        catch (BencodeException)
        {
        }

        return 0;
    }

    private static string UrlEncode(byte[] bytes)
    {
        var sb = new StringBuilder();
        foreach (var b in bytes)
        {
            sb.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
        }

        return sb.ToString();
    }
}
