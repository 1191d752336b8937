using System.Diagnostics.Metrics;
using P2PRegistry.Tracker.Admission;
using P2PRegistry.Tracker.Peers;

namespace P2PRegistry.Tracker.Diagnostics;

/// <summary>The tracker's instruments, on the meter <c>P2PRegistry.Tracker</c>.</summary>
internal sealed class TrackerMetrics
{
    public const string MeterName = "P2PRegistry.Tracker";

    private static readonly string[] s_roles = ["agent", "origin"];
    private static readonly string[] s_events = ["none", "started", "completed", "stopped"];
    private static readonly string[] s_transports = ["grpc", "http"];
    private static readonly string[] s_outcomes = ["stored", "removed", "swarm_full", "too_many_swarms"];

    // Announces counted here and reported when the meter is read: a counter's Add with four tags costs every
    // listener a lookup of its series on each of tens of thousands of announces a second.
    private readonly long[] _announceCounts = new long[s_roles.Length * s_events.Length * s_transports.Length * s_outcomes.Length];
    private readonly Counter<long> _refused;
    private readonly Counter<long> _peersExpired;
    private readonly Counter<long> _originFetches;
    private readonly Counter<long> _cacheHits;

    public TrackerMetrics(IMeterFactory meterFactory, IPeerStore peerStore)
    {
        var meter = meterFactory.Create(MeterName);
        meter.CreateObservableCounter("p2pregistry.tracker.announces", ObserveAnnounces, "{announce}", "Announces received, by role, event, transport and outcome.");
        _refused = meter.CreateCounter<long>("p2pregistry.tracker.announces.refused", "{announce}", "Announces refused before or by the peer store, by reason and transport.");
        _peersExpired = meter.CreateCounter<long>("p2pregistry.tracker.peers.expired", "{peer}", "Peers dropped because they stopped announcing.");
        _originFetches = meter.CreateCounter<long>("p2pregistry.tracker.metainfo.origin_fetches", "{request}", "Metainfo requests sent to the origin, by result.");
        _cacheHits = meter.CreateCounter<long>("p2pregistry.tracker.metainfo.cache_hits", "{request}", "Metainfo requests answered from the cache.");
        meter.CreateObservableGauge("p2pregistry.tracker.swarms", () => peerStore.GetStatistics().Swarms, "{swarm}", "Swarms with at least one live peer.");
        meter.CreateObservableGauge("p2pregistry.tracker.peers", () => peerStore.GetStatistics().Peers, "{peer}", "Peers across all swarms.");
    }

    /// <summary>One accepted announce; <paramref name="transport"/> is <c>grpc</c> or <c>http</c>.</summary>
    public void Announce(PeerRole role, AnnounceEvent announceEvent, string transport, PeerStoreOutcome outcome)
    {
        var index = (role == PeerRole.Origin ? 1 : 0);
        index = (index * s_events.Length) + EventIndex(announceEvent);
        index = (index * s_transports.Length) + (transport == "grpc" ? 0 : 1);
        index = (index * s_outcomes.Length) + OutcomeIndex(outcome);
        Interlocked.Increment(ref _announceCounts[index]);
    }

    // Only the series that counted something, as a counter's Add would have shown them.
    private IEnumerable<Measurement<long>> ObserveAnnounces()
    {
        for (var index = 0; index < _announceCounts.Length; index++)
        {
            var count = Interlocked.Read(ref _announceCounts[index]);
            if (count == 0)
            {
                continue;
            }

            var outcome = index % s_outcomes.Length;
            var transport = index / s_outcomes.Length % s_transports.Length;
            var announceEvent = index / (s_outcomes.Length * s_transports.Length) % s_events.Length;
            var role = index / (s_outcomes.Length * s_transports.Length * s_events.Length);
            yield return new Measurement<long>(
                count,
                new KeyValuePair<string, object?>("role", s_roles[role]),
                new KeyValuePair<string, object?>("event", s_events[announceEvent]),
                new KeyValuePair<string, object?>("transport", s_transports[transport]),
                new KeyValuePair<string, object?>("outcome", s_outcomes[outcome]));
        }
    }

    public void AnnounceRefused(AnnounceRefusal refusal, string transport) =>
        _refused.Add(
            1,
            new KeyValuePair<string, object?>("reason", RefusalTag(refusal)),
            new KeyValuePair<string, object?>("transport", transport));

    public void PeersExpired(int count) => _peersExpired.Add(count);

    /// <summary>One request to the origin; <paramref name="result"/> is ok, not_found, unavailable or invalid.</summary>
    public void OriginFetch(string result) => _originFetches.Add(1, new KeyValuePair<string, object?>("result", result));

    public void CacheHit() => _cacheHits.Add(1);

    private static int EventIndex(AnnounceEvent announceEvent) => announceEvent switch
    {
        AnnounceEvent.Started => 1,
        AnnounceEvent.Completed => 2,
        AnnounceEvent.Stopped => 3,
        _ => 0,
    };

    /// <summary>The <c>reason</c> label: one fixed word per <see cref="AnnounceRefusal"/>, so the label set stays bounded.</summary>
    internal static string RefusalTag(AnnounceRefusal refusal) => refusal switch
    {
        AnnounceRefusal.UntrustedIp => "untrusted_ip",
        AnnounceRefusal.UnroutableAddress => "unroutable_address",
        AnnounceRefusal.OriginNotAuthenticated => "origin_not_authenticated",
        AnnounceRefusal.UnknownInfoHash => "unknown_info_hash",
        AnnounceRefusal.PeerIdOwnedElsewhere => "peer_id_owned_elsewhere",
        AnnounceRefusal.AddressQuota => "address_quota",
        AnnounceRefusal.SwarmAddressQuota => "swarm_address_quota",
        AnnounceRefusal.InvalidLocality => "invalid_locality",
        AnnounceRefusal.TooManyPeers => "too_many_peers",
        AnnounceRefusal.StoreUnavailable => "store_unavailable",
        _ => "other",
    };

    private static int OutcomeIndex(PeerStoreOutcome outcome) => outcome switch
    {
        PeerStoreOutcome.Stored => 0,
        PeerStoreOutcome.Removed => 1,
        PeerStoreOutcome.SwarmFull => 2,
        _ => 3,
    };
}
