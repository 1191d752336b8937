using System.Net;
using Microsoft.Extensions.Options;

namespace P2PRegistry.Tracker;

/// <summary>Refuses to start with settings that cannot work, saying which key is wrong and why.</summary>
internal sealed class TrackerOptionsValidator : IValidateOptions<TrackerOptions>
{
    public ValidateOptionsResult Validate(string? name, TrackerOptions options)
    {
        var errors = new List<string>();
        errors.AddRange(options.Tls.Validate("Tracker:Tls"));
        errors.AddRange(options.Tls.ValidateListeners("Tracker:Tls", [("Tracker:GrpcUrl", options.GrpcUrl), ("Tracker:HttpUrl", options.HttpUrl)]));
        var grpc = CheckListenUrl(errors, nameof(TrackerOptions.GrpcUrl), options.GrpcUrl);
        var http = CheckListenUrl(errors, nameof(TrackerOptions.HttpUrl), options.HttpUrl);
        if (grpc is not null && http is not null && grpc.Port != 0 && grpc.Equals(http))
        {
            errors.Add($"Tracker:GrpcUrl and Tracker:HttpUrl are both {grpc}: gRPC needs HTTP/2 without TLS, which cannot share a cleartext port with HTTP/1.1.");
        }

        foreach (var (key, url) in new[] { (nameof(TrackerOptions.GrpcUrl), options.GrpcUrl), (nameof(TrackerOptions.HttpUrl), options.HttpUrl) })
        {
            if (IsHttps(url) && !options.Tls.HasServerCertificate)
            {
                errors.Add($"Tracker:{key} '{url}' is https: set Tracker:Tls:CertificatePath and Tracker:Tls:KeyPath.");
            }
        }

        if (!Uri.TryCreate(options.OriginUrl, UriKind.Absolute, out var origin) || (origin.Scheme != Uri.UriSchemeHttp && origin.Scheme != Uri.UriSchemeHttps))
        {
            errors.Add($"Tracker:OriginUrl '{options.OriginUrl}' must be an absolute http:// or https:// URL, e.g. http://127.0.0.1:5000.");
        }

        for (var i = 0; i < options.OriginUrls.Count; i++)
        {
            if (!Uri.TryCreate(options.OriginUrls[i], UriKind.Absolute, out var member) || (member.Scheme != Uri.UriSchemeHttp && member.Scheme != Uri.UriSchemeHttps))
            {
                errors.Add($"Tracker:OriginUrls:{i} '{options.OriginUrls[i]}' must be an absolute http:// or https:// URL, e.g. http://127.0.0.1:5000.");
            }
        }

        if (options.OriginUrls.Select(u => P2PRegistry.Core.Placement.RendezvousRing.TryNodeId(u, out var id) ? id : u).Distinct(StringComparer.Ordinal).Count() != options.OriginUrls.Count)
        {
            errors.Add("Tracker:OriginUrls lists an origin twice.");
        }

        if (options.OriginUrls.Count > 0 && (options.OriginReplicationFactor < 1 || options.OriginReplicationFactor > options.OriginUrls.Count))
        {
            errors.Add($"Tracker:OriginReplicationFactor must be between 1 and the number of Tracker:OriginUrls ({options.OriginUrls.Count}); got '{options.OriginReplicationFactor}'.");
        }

        if (!string.IsNullOrEmpty(options.AnnounceUrl) && !Uri.TryCreate(options.AnnounceUrl, UriKind.Absolute, out _))
        {
            errors.Add($"Tracker:AnnounceUrl '{options.AnnounceUrl}' must be an absolute URL, e.g. http://tracker.example:7000/announce.");
        }

        Positive(errors, nameof(TrackerOptions.OriginTimeout), options.OriginTimeout);
        Positive(errors, nameof(TrackerOptions.DownloadingInterval), options.DownloadingInterval);
        Positive(errors, nameof(TrackerOptions.SeedingInterval), options.SeedingInterval);
        Positive(errors, nameof(TrackerOptions.MinInterval), options.MinInterval);
        Positive(errors, nameof(TrackerOptions.SweepInterval), options.SweepInterval);
        if (options.MinInterval > options.DownloadingInterval || options.MinInterval > options.SeedingInterval)
        {
            errors.Add($"Tracker:MinInterval ({options.MinInterval}) must not exceed Tracker:DownloadingInterval ({options.DownloadingInterval}) or Tracker:SeedingInterval ({options.SeedingInterval}).");
        }

        if (options.PeerTtl is { } ttl && ttl <= options.SeedingInterval)
        {
            errors.Add($"Tracker:PeerTtl ({ttl}) must exceed Tracker:SeedingInterval ({options.SeedingInterval}), or seeds expire between their announces.");
        }

        if (options.MaxPeersHandedOut is < 1 or > 1000)
        {
            errors.Add($"Tracker:MaxPeersHandedOut must be 1..1000, got {options.MaxPeersHandedOut}.");
        }

        if (!(options.RemoteShare is >= 0 and <= 1))
        {
            errors.Add($"Tracker:RemoteShare must be 0..1 (the share of a handout kept for other zones' peers), got {options.RemoteShare}.");
        }

        if (P2PRegistry.Core.Placement.TopologyLabel.Problem(options.OriginZone) is { } originZoneProblem)
        {
            errors.Add($"Tracker:OriginZone '{options.OriginZone}' {originZoneProblem}.");
        }

        if (options.MaxSwarms < 1)
        {
            errors.Add($"Tracker:MaxSwarms must be at least 1, got {options.MaxSwarms}.");
        }

        if (options.MaxPeersPerSwarm < 1)
        {
            errors.Add($"Tracker:MaxPeersPerSwarm must be at least 1, got {options.MaxPeersPerSwarm}.");
        }

        AtLeastOne(errors, nameof(TrackerOptions.MaxPeers), options.MaxPeers);
        AtLeastOne(errors, nameof(TrackerOptions.MaxPeersPerAddress), options.MaxPeersPerAddress);
        AtLeastOne(errors, nameof(TrackerOptions.MaxPeersPerAddressPerSwarm), options.MaxPeersPerAddressPerSwarm);
        AtLeastOne(errors, nameof(TrackerOptions.MaxKnownInfoHashes), options.MaxKnownInfoHashes);
        CheckNetworks(errors, nameof(TrackerOptions.TrustedProxyNetworks), options.TrustedProxyNetworks);
        CheckNetworks(errors, nameof(TrackerOptions.OriginNetworks), options.OriginNetworks);

        if (!string.Equals(options.PeerStore, TrackerOptions.MemoryPeerStore, StringComparison.OrdinalIgnoreCase) && !options.UsesRedis)
        {
            errors.Add($"Tracker:PeerStore must be Memory or Redis, got '{options.PeerStore}'.");
        }

        if (options.UsesRedis)
        {
            errors.AddRange(options.Redis.Validate("Tracker:Redis"));
        }

        if (options.MetaInfoCacheBytes < 1024 * 1024)
        {
            errors.Add($"Tracker:MetaInfoCacheBytes must be at least 1 MiB, got {options.MetaInfoCacheBytes}.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    /// <summary>A listen URL is <c>http://&lt;IP literal or localhost&gt;:&lt;port&gt;</c>; port 0 picks a free port, no port means 80.</summary>
    internal static IPEndPoint? ParseListenUrl(string? url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps) || uri.AbsolutePath != "/" || uri.Query.Length != 0)
        {
            return null;
        }

        if (uri.IsLoopback && string.Equals(uri.Host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return new IPEndPoint(IPAddress.Loopback, uri.Port);
        }

        return IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address) ? new IPEndPoint(address, uri.Port) : null;
    }

    private static IPEndPoint? CheckListenUrl(List<string> errors, string key, string? url)
    {
        var endPoint = ParseListenUrl(url);
        if (endPoint is null)
        {
            errors.Add($"Tracker:{key} '{url}' must be http(s)://<IP address>:<port>, e.g. http://127.0.0.1:7000 (port 0 picks a free port).");
        }

        return endPoint;
    }

    /// <summary>CIDR networks such as <c>10.0.0.0/8</c> or <c>fd00::/8</c>; a single address is <c>/32</c> or <c>/128</c>.</summary>
    internal static IReadOnlyList<IPNetwork> ParseNetworks(IEnumerable<string>? networks)
    {
        var parsed = new List<IPNetwork>();
        foreach (var text in networks ?? [])
        {
            if (TryParseNetwork(text, out var network))
            {
                parsed.Add(network);
            }
        }

        return parsed;
    }

    // Strict: 10.0.0.1/8 is refused rather than read as 10.0.0.0/8, since whoever wrote it may have meant one host.
    private static bool TryParseNetwork(string? text, out IPNetwork network)
    {
        network = default;
        var slash = text?.IndexOf('/') ?? -1;
        return slash > 0
            && IPAddress.TryParse(text.AsSpan(0, slash), out var address)
            && IPNetwork.TryParse(text, out network)
            && network.BaseAddress.Equals(address);
    }

    private static void CheckNetworks(List<string> errors, string key, IEnumerable<string>? networks)
    {
        var i = 0;
        foreach (var text in networks ?? [])
        {
            if (!TryParseNetwork(text, out _))
            {
                errors.Add($"Tracker:{key}:{i} '{text}' must be a network in CIDR form with no host bits set, e.g. 10.0.0.0/8 or 192.0.2.7/32.");
            }

            i++;
        }
    }

    private static void AtLeastOne(List<string> errors, string key, int value)
    {
        if (value < 1)
        {
            errors.Add($"Tracker:{key} must be at least 1, got {value}.");
        }
    }
    internal static bool IsHttps(string? url) => url is not null && url.StartsWith("https://", StringComparison.OrdinalIgnoreCase);

    private static void Positive(List<string> errors, string key, TimeSpan value)
    {
        if (value <= TimeSpan.Zero)
        {
            errors.Add($"Tracker:{key} must be positive, got {value}.");
        }
    }
}
