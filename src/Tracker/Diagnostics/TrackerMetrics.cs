using System.Diagnostics.Metrics;
using P2PRegistry.Tracker.Admission;
using P2PRegistry.Tracker.Peers;

namespace P2PRegistry.Tracker.Diagnostics;

/// <summary>The tracker's instruments, on the meter <c>P2PRegistry.Tracker</c>.</summary>
internal sealed class TrackerMetrics
{
    public const string MeterName = "P2PRegistry.Tracker";

    private readonly Counter<long> _announces;
    private readonly Counter<long> _refused;
    private readonly Counter<long> _peersExpired;
    private readonly Counter<long> _originFetches;
    private readonly Counter<long> _cacheHits;

    public TrackerMetrics(IMeterFactory meterFactory, IPeerStore peerStore)
    {
        var meter = meterFactory.Create(MeterName);
        _announces = meter.CreateCounter<long>("p2pregistry.tracker.announces", "{announce}", "Announces received, by role, event, transport and outcome.");
        _refused = meter.CreateCounter<long>("p2pregistry.tracker.announces.refused", "{announce}", "Announces refused before or by the peer store, by reason and transport.");
        _peersExpired = meter.CreateCounter<long>("p2pregistry.tracker.peers.expired", "{peer}", "Peers dropped because they stopped announcing.");
        _originFetches = meter.CreateCounter<long>("p2pregistry.tracker.metainfo.origin_fetches", "{request}", "Metainfo requests sent to the origin, by result.");
        _cacheHits = meter.CreateCounter<long>("p2pregistry.tracker.metainfo.cache_hits", "{request}", "Metainfo requests answered from the cache.");
        meter.CreateObservableGauge("p2pregistry.tracker.swarms", () => peerStore.GetStatistics().Swarms, "{swarm}", "Swarms with at least one live peer.");
        meter.CreateObservableGauge("p2pregistry.tracker.peers", () => peerStore.GetStatistics().Peers, "{peer}", "Peers across all swarms.");
    }

    public void Announce(PeerRole role, AnnounceEvent announceEvent, string transport, PeerStoreOutcome outcome) =>
        _announces.Add(
            1,
            new KeyValuePair<string, object?>("role", role == PeerRole.Origin ? "origin" : "agent"),
            new KeyValuePair<string, object?>("event", EventTag(announceEvent)),
            new KeyValuePair<string, object?>("transport", transport),
            new KeyValuePair<string, object?>("outcome", OutcomeTag(outcome)));

    public void AnnounceRefused(AnnounceRefusal refusal, string transport) =>
        _refused.Add(
            1,
            new KeyValuePair<string, object?>("reason", RefusalTag(refusal)),
            new KeyValuePair<string, object?>("transport", transport));

    public void PeersExpired(int count) => _peersExpired.Add(count);

    /// <summary>One request to the origin; <paramref name="result"/> is ok, not_found, unavailable or invalid.</summary>
    public void OriginFetch(string result) => _originFetches.Add(1, new KeyValuePair<string, object?>("result", result));

    public void CacheHit() => _cacheHits.Add(1);

    private static string EventTag(AnnounceEvent announceEvent) => announceEvent switch
    {
        AnnounceEvent.Started => "started",
        AnnounceEvent.Completed => "completed",
        AnnounceEvent.Stopped => "stopped",
        _ => "none",
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

    private static string OutcomeTag(PeerStoreOutcome outcome) => outcome switch
    {
        PeerStoreOutcome.Stored => "stored",
        PeerStoreOutcome.Removed => "removed",
        PeerStoreOutcome.SwarmFull => "swarm_full",
        _ => "too_many_swarms",
    };
}
