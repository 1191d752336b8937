// Hostile peers against an origin's peer port, for perf/hostile-peers.sh. Finds the target through the origin's
// public metainfo endpoint (info hash, piece layout, advertised peer endpoint), like any peer that knows a digest.
//   keepalive:    N sessions handshake for the blob, then send only keep-alives; prints "ready …" once every
//                 session has had its first attempt, and "done …" when stopped (SIGTERM/SIGINT) or --max-seconds.
//   cancel-flood: one session sends random cancel messages as fast as it can for --seconds; prints "done …".
using System.Globalization;
using System.Runtime.InteropServices;
using P2PRegistry.Attack;

const string Usage = """
    usage: P2PRegistry.Attack keepalive <origin url> <sha256:digest> [--sessions 200] [--keepalive-seconds 30] [--max-seconds 600]
           P2PRegistry.Attack cancel-flood <origin url> <sha256:digest> [--seconds 60]
    """;

if (args.Length < 3 || args[0] is not ("keepalive" or "cancel-flood") || !Uri.TryCreate(args[1], UriKind.Absolute, out var origin))
{
    Console.Error.WriteLine(Usage);
    return 2;
}

var options = new Dictionary<string, int>
{
    ["--sessions"] = 200,
    ["--keepalive-seconds"] = 30,
    ["--max-seconds"] = 600,
    ["--seconds"] = 60,
};
for (var i = 3; i < args.Length; i += 2)
{
    if (!options.ContainsKey(args[i]) || i + 1 >= args.Length || !int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value is < 1 or > 3600)
    {
        Console.Error.WriteLine($"bad option {args[i]} (every value is 1..3600)");
        Console.Error.WriteLine(Usage);
        return 2;
    }

    options[args[i]] = value;
}

if (options["--sessions"] > 2000)
{
    Console.Error.WriteLine("--sessions is at most 2000");
    return 2;
}

using var stop = new CancellationTokenSource();
void Stop(PosixSignalContext context)
{
    context.Cancel = true;
    stop.Cancel();
}

using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
using var onInt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);

var target = await OriginTarget.FetchAsync(origin, args[2], stop.Token);
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"target info_hash={target.MetaInfo.InfoHash.ToHex()} peer={target.PeerEndPoint} pieces={target.MetaInfo.PieceCount} piece_length={target.MetaInfo.PieceLength}"));

if (args[0] == "keepalive")
{
    stop.CancelAfter(TimeSpan.FromSeconds(options["--max-seconds"]));
    var sessions = new KeepAliveSessions(target, TimeSpan.FromSeconds(options["--keepalive-seconds"]), reconnectDelay: TimeSpan.FromSeconds(1));
    await sessions.RunAsync(options["--sessions"], Console.Out, stop.Token);
}
else
{
    await new CancelFlood(target).RunAsync(TimeSpan.FromSeconds(options["--seconds"]), Console.Out, stop.Token);
}

return 0;
