using P2PRegistry.Core.Placement;

namespace P2PRegistry.Origin.Cluster;

/// <summary>
/// <c>Origin:Cluster</c>: the origins that together hold the content. Without <see cref="Members"/> the origin is a
/// single origin, as before. With them, each blob lives on the <see cref="ReplicationFactor"/> members that rank first
/// for its digest (<see cref="P2PRegistry.Core.Placement.RendezvousRing"/> over the member URLs), manifests and tags on
/// every member.
/// </summary>
public sealed class ClusterOptions
{
    public const string Section = "Origin:Cluster";

    /// <summary>The base URL of every origin (this one included), as the other origins reach it, e.g. <c>http://10.0.0.5:5000</c>.</summary>
    public List<string> Members { get; set; } = [];

    /// <summary>Which of <see cref="Members"/> this origin is (the same string).</summary>
    public string? Self { get; set; }

    /// <summary>Copies of each blob (R), on distinct members.</summary>
    public int ReplicationFactor { get; set; } = 2;

    /// <summary>
    /// A file whose content (trailing newline trimmed) is the secret every member sends on the cluster API and checks
    /// on it. Needed unless the registry listens on https with client certificates from the cluster CA (then an
    /// origin-role certificate is accepted instead).
    /// </summary>
    public string? SecretFile { get; set; }

    /// <summary>
    /// The secret travels in a request header: over <c>http://</c> members it is in clear text, so a <see cref="SecretFile"/>
    /// with an http member is refused at start unless this is set (a loopback test, a network nobody else can watch);
    /// then a warning is logged at start.
    /// </summary>
    public bool AllowInsecureSecret { get; set; }

    /// <summary>Failed cluster authentications a client address may make per <see cref="FailureWindow"/>; past it, 429 until the window ends.</summary>
    public int MaxFailedAttempts { get; set; } = 10;

    public TimeSpan FailureWindow { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Members with http:// URLs (the secret would cross the network in clear text).</summary>
    public IEnumerable<string> HttpMembers => Members.Where(m => m.TrimStart().StartsWith("http://", StringComparison.OrdinalIgnoreCase));

    /// <summary>How often the repair loop walks the blobs this origin holds (copies missing replicas, drops misplaced ones).</summary>
    public TimeSpan RepairInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Limit on one cluster exchange that carries no blob (a HEAD, a manifest); a blob copy fails when no byte moves this long.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>A member that failed an exchange is skipped (counted as not live) this long: passive health.</summary>
    public TimeSpan DownTime { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a deleted manifest or tag is remembered (a tombstone), so that a member down during the DELETE learns
    /// of it instead of offering the manifest back; a member down longer than this may bring it back.
    /// </summary>
    public TimeSpan TombstoneRetention { get; set; } = TimeSpan.FromDays(7);

    public bool Enabled => Members.Count > 0;

    /// <summary>
    /// A member URL in one spelling, <see cref="RendezvousRing.NodeId"/> (members are compared and hashed as strings, by
    /// trackers and agents too); anything that is no absolute URL only trimmed, for <see cref="Validate"/> to report.
    /// </summary>
    public static string Normalize(string url) => RendezvousRing.TryNodeId(url, out var id) ? id : url.Trim().TrimEnd('/');

    /// <summary>One message per problem, each naming the key.</summary>
    public IEnumerable<string> Validate(bool hasClientCertificateTrust)
    {
        if (!Enabled)
        {
            if (!string.IsNullOrEmpty(Self))
            {
                yield return $"{Section}:Self is set but {Section}:Members is empty; list every origin's base URL in Members.";
            }

            yield break;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < Members.Count; i++)
        {
            var member = Members[i];
            if (!Uri.TryCreate(member, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
                || uri.PathAndQuery.TrimEnd('/').Length > 0 || !string.IsNullOrEmpty(uri.UserInfo))
            {
                yield return $"{Section}:Members:{i} must be an http or https base URL without path or credentials; got '{member}'.";
                continue;
            }

            if (!seen.Add(Normalize(member)))
            {
                yield return $"{Section}:Members:{i} '{member}' is listed twice.";
            }
        }

        if (string.IsNullOrWhiteSpace(Self))
        {
            yield return $"{Section}:Self must name this origin's entry of {Section}:Members.";
        }
        else if (!seen.Contains(Normalize(Self)))
        {
            yield return $"{Section}:Self '{Self}' is not one of {Section}:Members.";
        }

        if (ReplicationFactor < 1 || ReplicationFactor > Members.Count)
        {
            yield return $"{Section}:ReplicationFactor must be between 1 and the number of members ({Members.Count}); got '{ReplicationFactor}'.";
        }

        if (string.IsNullOrEmpty(SecretFile) && !hasClientCertificateTrust)
        {
            yield return $"{Section}:SecretFile must name the shared cluster secret (or serve https with Origin:Tls:ClientCaPath/CaPath so origin certificates authenticate members).";
        }
        else if (!string.IsNullOrEmpty(SecretFile))
        {
            string? problem = null;
            try
            {
                if (ClusterSecret.Read(SecretFile).Length < ClusterSecret.MinimumLength)
                {
                    problem = $"the secret must be at least {ClusterSecret.MinimumLength} characters";
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                problem = ex.Message;
            }

            if (problem is not null)
            {
                yield return $"{Section}:SecretFile '{SecretFile}' cannot be used: {problem}.";
            }
        }

        if (!string.IsNullOrEmpty(SecretFile) && !AllowInsecureSecret && HttpMembers.Any())
        {
            yield return $"{Section}:SecretFile would be sent in clear text to http:// members ({string.Join(", ", HttpMembers)}): use https members, or set {Section}:AllowInsecureSecret=true on a network nobody else can watch.";
        }

        if (MaxFailedAttempts < 1 || MaxFailedAttempts > 1_000_000)
        {
            yield return $"{Section}:MaxFailedAttempts must be between 1 and 1000000; got '{MaxFailedAttempts}'.";
        }

        if (FailureWindow <= TimeSpan.Zero || FailureWindow > TimeSpan.FromDays(1))
        {
            yield return $"{Section}:FailureWindow must be between 00:00:00.001 and 1.00:00:00; got '{FailureWindow}'.";
        }

        if (RepairInterval < TimeSpan.FromMilliseconds(100) || RepairInterval > TimeSpan.FromDays(1))
        {
            yield return $"{Section}:RepairInterval must be between 00:00:00.1 and 1.00:00:00; got '{RepairInterval}'.";
        }

        if (RequestTimeout <= TimeSpan.Zero || RequestTimeout > TimeSpan.FromMinutes(10))
        {
            yield return $"{Section}:RequestTimeout must be between 00:00:00.001 and 00:10:00; got '{RequestTimeout}'.";
        }

        if (DownTime < TimeSpan.Zero || DownTime > TimeSpan.FromHours(1))
        {
            yield return $"{Section}:DownTime must be between 0 and 01:00:00; got '{DownTime}'.";
        }

        if (TombstoneRetention < TimeSpan.FromMinutes(1) || TombstoneRetention > TimeSpan.FromDays(365))
        {
            yield return $"{Section}:TombstoneRetention must be between 00:01:00 and 365.00:00:00; got '{TombstoneRetention}'.";
        }
    }
}
