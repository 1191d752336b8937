using System.Diagnostics;
using System.Net;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using P2PRegistry.Contracts.Tracker;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.TrackerLoad.Measuring;
using P2PRegistry.TrackerLoad.Origin;
using P2PRegistry.TrackerLoad.Workload;

namespace P2PRegistry.TrackerLoad;

/// <summary>
/// Drives a tracker with gRPC announces in three phases: warm-up (one STARTED per swarm, so the tracker fetches every
/// swarm's metainfo before anything is measured), populate (every other peer's STARTED: the swarms reach their
/// planned sizes) and measure (for the set duration, each caller announces for random peers it owns, each peer's
/// next event in its <see cref="PeerLifecycle"/>, a seed now and then pulling the blob again). Closed loop: <c>Callers</c> announces in flight over
/// <c>Connections</c> HTTP/2 connections. Each peer belongs to one caller, so its state needs no lock.
/// </summary>
internal sealed class LoadRunner(LoadArguments arguments, TextWriter log)
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(30);
    private const int MaxErrorSamples = 5;

    /// <summary>
    /// The tracker's Announce with an answer that is counted, not parsed: the load generator shares the cores with the
    /// tracker, and decoding 50 peers (an id and an address string apiece) per answer would cost more CPU than many
    /// of the announces it measures. What the tracker sends is the same; its size is recorded instead.
    /// </summary>
    private static readonly Method<AnnounceRequest, AnswerSize> s_announce = new(
        MethodType.Unary,
        Tracker.Descriptor.FullName,
        "Announce",
        Marshallers.Create(static (AnnounceRequest request) => request.ToByteArray(), AnnounceRequest.Parser.ParseFrom),
        new Marshaller<AnswerSize>(
            static (AnswerSize _, SerializationContext _) => throw new NotSupportedException("answers are only received"),
            static (DeserializationContext context) => AnswerSize.Of(context.PayloadLength)));

    private readonly WorkloadPlan _plan = new(arguments.Swarms, arguments.MaxPeersPerSwarm, arguments.MinPeersPerSwarm);
    private readonly Lock _errorsLock = new();
    private readonly Dictionary<StatusCode, long> _errors = [];
    private readonly List<string> _errorSamples = [];

    public async Task<LoadReport> RunAsync(CancellationToken cancellationToken)
    {
        log.WriteLine($"plan: {_plan.SwarmCount} swarms, {_plan.TotalPeers} peers, largest {_plan.MaxPeersPerSwarm}, smallest {_plan.Sizes[^1]}");
        var metaInfos = Enumerable.Range(0, _plan.SwarmCount).Select(WorkloadPlan.BlobMetaInfo).ToArray();
        var swarms = metaInfos.Select(m => (InfoHash: ByteString.CopyFrom(m.InfoHash.ToArray()), Digest: m.Digest.Value, m.Length)).ToArray();
        var nodes = Enumerable.Range(0, _plan.MaxPeersPerSwarm).Select(n => (PeerId: ByteString.CopyFrom(WorkloadPlan.NodePeerId(n)), Ip: WorkloadPlan.NodeAddress(n))).ToArray();
        var states = new byte[_plan.TotalPeers];

        // The origin's peer endpoint: an address in the load's own range, handed out last in every answer.
        await using var metaInfoServer = await MetaInfoServer.StartAsync(arguments.MetaInfoEndPoint, metaInfos, new IPEndPoint(IPAddress.Parse("10.255.255.254"), 6881)).ConfigureAwait(false);
        var channels = Enumerable.Range(0, arguments.Connections).Select(_ => GrpcChannel.ForAddress(arguments.TrackerUrl, new GrpcChannelOptions
        {
            // One connection per channel: the point is many streams over few connections.
            HttpHandler = new SocketsHttpHandler
            {
                EnableMultipleHttp2Connections = false,
                PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
                ConnectTimeout = TimeSpan.FromSeconds(10),
            },
            DisposeHttpClient = true,
        })).ToArray();
        try
        {
            var clients = channels.Select(c => c.CreateCallInvoker()).ToArray();

            Task<bool> AnnounceAsync(int caller, int peer, LatencyHistogram histogram, EventCounts counts, bool restart = false) =>
                SendAsync(clients[caller % clients.Length], peer, restart, swarms, nodes, states, histogram, counts, cancellationToken);

            // Warm-up: node 0 of every swarm starts, so the tracker fetches each metainfo once; not measured.
            var warmupClock = Stopwatch.StartNew();
            var warmupCounts = new EventCounts();
            var warmupPeers = Enumerable.Range(0, _plan.SwarmCount).Select(FirstPeerOf).ToArray();
            await ForEachCallerAsync(arguments.Callers, caller => Partition(warmupPeers, caller, arguments.Callers), async (caller, peers) =>
            {
                var histogram = new LatencyHistogram();
                foreach (var peer in peers)
                {
                    await AnnounceAsync(caller, peer, histogram, warmupCounts).ConfigureAwait(false);
                }

                return histogram;
            }).ConfigureAwait(false);
            warmupClock.Stop();
            log.WriteLine($"warm-up: {warmupCounts.Total} announces in {warmupClock.Elapsed.TotalSeconds:0.0} s, {metaInfoServer.Served} metainfo fetches");
            ThrowIfFailed("warm-up");

            // Populate: every other peer's STARTED, each caller its own peers in a shuffled order.
            var owned = Enumerable.Range(0, arguments.Callers).Select(c => OwnedPeers(c)).ToArray();
            var populateClock = Stopwatch.StartNew();
            var populateCounts = new EventCounts();
            var populate = await ForEachCallerAsync(arguments.Callers, caller => owned[caller], async (caller, peers) =>
            {
                var histogram = new LatencyHistogram();
                var order = peers.Where(p => states[p] == 0).ToArray();
                new Random(arguments.Seed * 7919 + caller).Shuffle(order);
                foreach (var peer in order)
                {
                    await AnnounceAsync(caller, peer, histogram, populateCounts).ConfigureAwait(false);
                }

                return histogram;
            }).ConfigureAwait(false);
            populateClock.Stop();
            log.WriteLine($"populate: {populateCounts.Total} announces in {populateClock.Elapsed.TotalSeconds:0.0} s ({populateCounts.Total / populateClock.Elapsed.TotalSeconds:0}/s)");
            ThrowIfFailed("populate");

            // Measure: random peers of each caller, each peer's next event, until the deadline.
            var cpuBefore = CpuClock.OfThisProcess();
            var othersBefore = arguments.CpuPids.Select(p => CpuClock.Of(p.Pid)).ToArray();
            var measureCounts = new EventCounts();
            var measureClock = Stopwatch.StartNew();
            var deadline = Stopwatch.GetTimestamp() + (long)(arguments.Duration.TotalSeconds * Stopwatch.Frequency);
            var measure = await ForEachCallerAsync(arguments.Callers, caller => owned[caller], async (caller, peers) =>
            {
                var histogram = new LatencyHistogram();
                var random = new Random(arguments.Seed * 104729 + caller);
                while (Stopwatch.GetTimestamp() < deadline && peers.Length > 0)
                {
                    var restart = random.Next(100) < arguments.RestartPercent;
                    await AnnounceAsync(caller, peers[random.Next(peers.Length)], histogram, measureCounts, restart).ConfigureAwait(false);
                }

                return histogram;
            }).ConfigureAwait(false);
            measureClock.Stop();
            var cpuClient = CpuClock.OfThisProcess() - cpuBefore;
            var cpuOthers = arguments.CpuPids.Select((p, i) => new ProcessCpu(p.Name, (CpuClock.Of(p.Pid) - othersBefore[i]).TotalSeconds)).ToArray();
            var seconds = measureClock.Elapsed.TotalSeconds;
            log.WriteLine($"measure: {measure.Count} announces in {seconds:0.0} s ({measure.Count / seconds:0}/s), p50 {measure.Percentile(50)} µs, p99 {measure.Percentile(99)} µs, p99.9 {measure.Percentile(99.9)} µs");

            return new LoadReport(
                arguments.Store,
                _plan.SwarmCount,
                _plan.TotalPeers,
                _plan.MaxPeersPerSwarm,
                _plan.Sizes[^1],
                arguments.Callers,
                arguments.Connections,
                Environment.ProcessorCount,
                new PhaseReport(warmupCounts.Total, warmupClock.Elapsed.TotalSeconds, null),
                new PhaseReport(populateCounts.Total, populateClock.Elapsed.TotalSeconds, LatencyReport.Of(populate)),
                new PhaseReport(measure.Count, seconds, LatencyReport.Of(measure)),
                measureCounts.ToReport(),
                metaInfoServer.Served,
                cpuClient.TotalSeconds,
                cpuOthers,
                ErrorReport());
        }
        finally
        {
            foreach (var channel in channels)
            {
                channel.Dispose();
            }
        }
    }

    private int FirstPeerOf(int swarm) => Enumerable.Range(0, swarm).Sum(s => _plan.Sizes[s]);

    private int[] OwnedPeers(int caller)
    {
        var peers = new List<int>(_plan.TotalPeers / arguments.Callers + 1);
        for (var p = caller; p < _plan.TotalPeers; p += arguments.Callers)
        {
            peers.Add(p);
        }

        return [.. peers];
    }

    private static int[] Partition(int[] items, int caller, int callers) => items.Where((_, i) => i % callers == caller).ToArray();

    private async Task<bool> SendAsync(
        CallInvoker client,
        int peer,
        bool restart,
        (ByteString InfoHash, string Digest, long Length)[] swarms,
        (ByteString PeerId, string Ip)[] nodes,
        byte[] states,
        LatencyHistogram histogram,
        EventCounts counts,
        CancellationToken cancellationToken)
    {
        var (swarm, node) = _plan.PeerAt(peer);
        var state = states[peer];
        var (announceEvent, complete, next) = PeerLifecycle.Next(state, arguments.DownloadingAnnounces, restart);
        var request = new AnnounceRequest
        {
            InfoHash = swarms[swarm].InfoHash,
            Digest = swarms[swarm].Digest,
            PeerId = nodes[node].PeerId,
            Ip = nodes[node].Ip,
            Port = 6881,
            Role = PeerRole.Agent,
            Complete = complete,
            BytesLeft = PeerLifecycle.BytesLeft(state, arguments.DownloadingAnnounces, swarms[swarm].Length),
            Event = announceEvent,
        };
        var started = Stopwatch.GetTimestamp();
        try
        {
            var answer = await client.AsyncUnaryCall(s_announce, null, new CallOptions(deadline: DateTime.UtcNow + CallTimeout, cancellationToken: cancellationToken), request).ConfigureAwait(false);
            counts.Answered(answer.Bytes);
        }
        catch (RpcException ex) when (!cancellationToken.IsCancellationRequested)
        {
            lock (_errorsLock)
            {
                _errors[ex.StatusCode] = _errors.GetValueOrDefault(ex.StatusCode) + 1;
                if (_errorSamples.Count < MaxErrorSamples)
                {
                    _errorSamples.Add($"{ex.StatusCode}: {ex.Status.Detail}");
                }
            }

            return false;
        }

        histogram.Record((long)Stopwatch.GetElapsedTime(started).TotalMicroseconds);
        counts.Count(announceEvent);
        states[peer] = next;
        return true;
    }

    private static async Task<LatencyHistogram> ForEachCallerAsync(int callers, Func<int, int[]> peersOf, Func<int, int[], Task<LatencyHistogram>> body)
    {
        var tasks = Enumerable.Range(0, callers).Select(c => Task.Run(() => body(c, peersOf(c)))).ToArray();
        var histograms = await Task.WhenAll(tasks).ConfigureAwait(false);
        var total = new LatencyHistogram();
        foreach (var histogram in histograms)
        {
            total.Add(histogram);
        }

        return total;
    }

    private void ThrowIfFailed(string phase)
    {
        lock (_errorsLock)
        {
            if (_errors.Count != 0)
            {
                throw new InvalidOperationException(
                    $"The tracker refused {_errors.Values.Sum()} announces in the {phase} phase ({string.Join(", ", _errors.Select(e => $"{e.Key} × {e.Value}"))}); " +
                    $"first: {string.Join(" | ", _errorSamples)}. Is it started with --Tracker:TrustedProxyNetworks:0=127.0.0.0/8 and --Tracker:OriginUrl at this metainfo server?");
            }
        }
    }

    private ErrorReport ErrorReport()
    {
        lock (_errorsLock)
        {
            return new ErrorReport(_errors.Values.Sum(), _errors.ToDictionary(e => e.Key.ToString(), e => e.Value), [.. _errorSamples]);
        }
    }

    /// <summary>How long an answer was (every answer holds at least the intervals, so never 0 for an accepted announce).</summary>
    private sealed class AnswerSize(int bytes)
    {
        private static readonly AnswerSize[] s_small = [.. Enumerable.Range(0, 4096).Select(n => new AnswerSize(n))];

        public int Bytes { get; } = bytes;

        public static AnswerSize Of(int bytes) => (uint)bytes < (uint)s_small.Length ? s_small[bytes] : new AnswerSize(bytes);
    }

    /// <summary>Accepted announces by event, counted from every caller.</summary>
    private sealed class EventCounts
    {
        private long _started;
        private long _none;
        private long _completed;
        private long _answerBytes;

        public long AnswerBytes => Interlocked.Read(ref _answerBytes);

        public void Answered(int bytes) => Interlocked.Add(ref _answerBytes, bytes);

        public long Total => Interlocked.Read(ref _started) + Interlocked.Read(ref _none) + Interlocked.Read(ref _completed);

        public void Count(AnnounceEvent announceEvent)
        {
            switch (announceEvent)
            {
                case AnnounceEvent.Started:
                    Interlocked.Increment(ref _started);
                    break;
                case AnnounceEvent.Completed:
                    Interlocked.Increment(ref _completed);
                    break;
                default:
                    Interlocked.Increment(ref _none);
                    break;
            }
        }

        public EventReport ToReport() => new(Interlocked.Read(ref _started), Interlocked.Read(ref _none), Interlocked.Read(ref _completed), AnswerBytes);
    }
}
