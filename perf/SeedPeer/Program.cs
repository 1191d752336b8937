// One peer, as an agent runs it: asks the tracker (gRPC) for a blob's metainfo and peers, downloads it with the
// swarm engine into a file, and prints "<seconds> <MiB/s> <bytes from origins> <bytes total>". Used by
// perf/seed-throughput.sh to measure a seeding origin → one peer over loopback.
// Usage: P2PRegistry.SeedPeer <tracker gRPC url> <sha256:digest> <output file>
using System.Diagnostics;
using System.Globalization;
using System.Net;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using P2PRegistry.Contracts.Tracker;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Swarm;
using P2PRegistry.Swarm.Tracking;
using P2PRegistry.Swarm.Transport;

if (args.Length != 3)
{
    Console.Error.WriteLine("usage: P2PRegistry.SeedPeer <tracker gRPC url> <sha256:digest> <output file>");
    return 2;
}

using var channel = GrpcChannel.ForAddress(args[0]);
var tracker = new Tracker.TrackerClient(channel);
var info = await tracker.GetMetaInfoAsync(new GetMetaInfoRequest { Digest = args[1] }, deadline: DateTime.UtcNow.AddSeconds(60));
var metaInfo = MetaInfo.Decode(info.Info.ToByteArray());

var builder = Host.CreateApplicationBuilder();
builder.Logging.ClearProviders();
builder.Services.AddSingleton<ITrackerClient>(new GrpcTrackerClient(tracker, TrackerRole.Agent, TimeSpan.FromSeconds(5)));
builder.Services.AddSwarm(configure: o =>
{
    o.PeerPort = 0;
    o.DownloadAnnounceInterval = TimeSpan.FromSeconds(1);
    // SEEDPEER_BLOCK_SIZE: request size in bytes (16 KiB, what standard clients use, by default).
    if (int.TryParse(Environment.GetEnvironmentVariable("SEEDPEER_BLOCK_SIZE"), out var blockSize))
    {
        o.BlockSize = blockSize;
    }
});
builder.Services.AddSwarmPeerListener(_ => new IPEndPoint(IPAddress.Loopback, 0));
using var app = builder.Build();
await app.StartAsync();
var engine = app.Services.GetRequiredService<SwarmEngine>();

var stopwatch = Stopwatch.StartNew();
var download = await engine.StartDownloadAsync(metaInfo, args[2]);
await download.Completion.WaitAsync(TimeSpan.FromMinutes(10));
stopwatch.Stop();
var statistics = engine.GetStatistics(metaInfo.InfoHash)!;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"{stopwatch.Elapsed.TotalSeconds:0.000} {metaInfo.Length / 1048576.0 / stopwatch.Elapsed.TotalSeconds:0} {statistics.BytesFromOrigins} {statistics.BytesDownloaded}"));
await engine.DisposeAsync();
await app.StopAsync();
return 0;
