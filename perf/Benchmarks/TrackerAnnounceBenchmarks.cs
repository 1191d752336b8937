using System.Net;
using BenchmarkDotNet.Attributes;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Core.Wire;
using P2PRegistry.Tracker.Handout;
using P2PRegistry.Tracker.Peers;

namespace P2PRegistry.Benchmarks;

/// <summary>
/// The tracker's announce hot path below the transport: a periodic announce of a peer of a full swarm into the
/// in-memory store, then the handout policy choosing 50 peers from what the store returned. <c>MaxCandidates</c>
/// int.MaxValue is the store answering with every live peer (as before the bound); 100 is what the tracker runs with
/// (2 × MaxPeersHandedOut).
/// </summary>
[MemoryDiagnoser]
public class TrackerAnnounceBenchmarks
{
    private static readonly InfoHash s_swarm = InfoHash.Compute("benchmark-swarm"u8);
    private InMemoryPeerStore _store = null!;
    private PeerHandoutPolicy _policy = null!;
    private PeerRecord[] _peers = [];
    private readonly Random _random = new(3);
    private int _next;

    [Params(100, 10_000)]
    public int SwarmSize { get; set; }

    [Params(int.MaxValue, 100)]
    public int MaxCandidates { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _store = new InMemoryPeerStore(new PeerStoreOptions(TimeSpan.FromHours(1), 10, 10_000, MaxCandidates: MaxCandidates), TimeProvider.System);
        _policy = new PeerHandoutPolicy(new HandoutSettings(50, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(1)));
        _peers = new PeerRecord[SwarmSize];
        for (var n = 0; n < SwarmSize; n++)
        {
            var id = new byte[PeerId.Length];
            BitConverter.TryWriteBytes(id, n);
            // Half seeds, half downloading, as a swarm mid-rollout.
            _peers[n] = new PeerRecord(new PeerId(id), new IPAddress(0x0A000000 + n + 1), 6881, PeerRole.Agent, n % 2 == 0, 0, default);
            _store.AnnounceAsync(s_swarm, _peers[n], AnnounceEvent.Started, default).AsTask().GetAwaiter().GetResult();
        }
    }

    [Benchmark]
    public async ValueTask<int> PeriodicAnnounce()
    {
        var peer = _peers[_next];
        _next = (_next + 1) % _peers.Length;
        var stored = await _store.AnnounceAsync(s_swarm, peer, AnnounceEvent.None, default);
        return _policy.Select(stored.Peers, peer.Id, peer.Address, peer.Port, 0, _random).Count;
    }
}
