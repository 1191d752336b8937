using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using P2PRegistry.Agent;
using P2PRegistry.Agent.Blobs;
using P2PRegistry.Agent.Cache;
using P2PRegistry.Core.Content;
using P2PRegistry.Core.MetaInfos;

namespace P2PRegistry.Benchmarks;

/// <summary>
/// One run of the agent's disk collector over a cache of 1,000 blobs (64 KiB each, with their MetaInfo files), in an
/// agent built but not started (no listener, no announce): <see cref="RunNothingToEvict"/> is the periodic cost (walk
/// the data folder, statvfs, snapshot the cache, read the swarms' upload counters); <see cref="RunEvicting100"/> is a
/// run in capacity mode that evicts the 100 least recently used (each iteration first puts back what the previous one
/// evicted). The process CPU time of the runs is printed at the end (<c>// CPU per run</c>): a run is one thread's
/// work, so CPU ≈ time unless it waits on the disk.
/// </summary>
[MemoryDiagnoser]
public class DiskGcBenchmarks
{
    private const int Blobs = 1000;
    private const int BlobBytes = 64 << 10;
    private readonly List<(Digest Digest, MetaInfo MetaInfo, byte[] Content)> _blobs = [];
    private string _dir = "";
    private WebApplication? _idleAgent;
    private WebApplication? _fullAgent;
    private DiskCollector _idle = null!;
    private DiskCollector _full = null!;
    private BlobCache _fullCache = null!;
    private MetaInfoShelf _fullShelf = null!;
    private TimeSpan _cpu;
    private int _runs;

    [GlobalSetup]
    public void Setup()
    {
        _dir = Directory.CreateTempSubdirectory("p2preg-bench-gc-").FullName;
        var random = new Random(18);
        for (var i = 0; i < Blobs; i++)
        {
            var content = new byte[BlobBytes];
            random.NextBytes(content);
            var digest = Digest.Compute(content);
            _blobs.Add((digest, MetaInfo.ComputeAsync(digest, new MemoryStream(content), content.Length).GetAwaiter().GetResult(), content));
        }

        var idleData = Install("idle");
        Install("full");
        var total = Blobs * (long)BlobBytes;

        // Capacity mode with 80 % of the capacity at 90 % of the blobs: each run evicts about a tenth of them.
        var capacity = total * 9 / 8;
        (_idleAgent, _idle) = Build(idleData, "--Agent:CacheCapacityBytes=0");
        (_fullAgent, _full) = Build(Path.Combine(_dir, "full"), $"--Agent:CacheCapacityBytes={capacity}");
        _fullCache = _fullAgent.Services.GetRequiredService<BlobCache>();
        _fullShelf = _fullAgent.Services.GetRequiredService<MetaInfoShelf>();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        if (_runs > 0)
        {
            Console.WriteLine($"// CPU per run: {_cpu.TotalMilliseconds / _runs:0.000} ms over {_runs} runs");
        }

        _idleAgent?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _fullAgent?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Directory.Delete(_dir, recursive: true);
    }

    [IterationSetup(Target = nameof(RunEvicting100))]
    public void PutBackEvicted()
    {
        var staging = Directory.CreateDirectory(Path.Combine(_dir, "full", "staging")).FullName;
        foreach (var (digest, metaInfo, content) in _blobs)
        {
            if (!_fullCache.Contains(digest))
            {
                var path = Path.Combine(staging, digest.Hex);
                File.WriteAllBytes(path, content);
                _fullShelf.KeepAsync(metaInfo).GetAwaiter().GetResult();
                _fullCache.Admit(digest, path);
            }
        }
    }

    [Benchmark]
    public int RunNothingToEvict() => Measure(_idle);

    [Benchmark]
    public int RunEvicting100() => Measure(_full);

    private int Measure(DiskCollector collector)
    {
        var before = Process.GetCurrentProcess().TotalProcessorTime;
        var run = collector.RunOnceAsync().GetAwaiter().GetResult();
        _cpu += Process.GetCurrentProcess().TotalProcessorTime - before;
        _runs++;
        return run.Removed.Count;
    }

    private string Install(string name)
    {
        var data = Path.Combine(_dir, name);
        var cache = Directory.CreateDirectory(Path.Combine(data, "cache", "sha256")).FullName;
        var metaInfo = Directory.CreateDirectory(Path.Combine(data, "metainfo")).FullName;
        var now = DateTime.UtcNow;
        for (var i = 0; i < _blobs.Count; i++)
        {
            var (digest, meta, content) = _blobs[i];
            var path = Path.Combine(cache, digest.Hex);
            File.WriteAllBytes(path, content);
            File.SetLastWriteTimeUtc(path, now - TimeSpan.FromMinutes(10_000 - i));
            File.WriteAllBytes(Path.Combine(metaInfo, digest.Hex), meta.Encoded.ToArray());
        }

        return data;
    }

    private static (WebApplication App, DiskCollector Collector) Build(string data, string capacity)
    {
        var app = AgentApp.Build(
        [
            "--Agent:RegistryUrl=http://127.0.0.1:0",
            "--Agent:PeerPort=0",
            $"--Agent:DataPath={data}",
            $"--Agent:TrackerUrl=http://127.0.0.1:{UnusedPort()}",
            $"--Agent:OriginUrl=http://127.0.0.1:{UnusedPort()}",
            "--Agent:Gc:Interval=1.00:00:00",
            "--Agent:Gc:MinimumAge=00:00:00",
            "--Logging:LogLevel:Default=Warning",
            capacity,
        ]);
        return (app, app.Services.GetRequiredService<DiskCollector>());
    }

    private static int UnusedPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
