using Microsoft.Extensions.Options;
using P2PRegistry.Origin.Diagnostics;

namespace P2PRegistry.Origin.Configuration;

/// <summary>
/// Fails start with a message naming the configuration key and the bad value, so an operator can fix
/// the setting without reading code.
/// </summary>
/// <param name="listenUrls">The registry's listen URLs as configured (<c>--urls</c>, ';'-separated): mutual TLS needs an https one.</param>
internal sealed class OriginOptionsValidator(string? listenUrls = null) : IValidateOptions<OriginOptions>
{
    private const string S = OriginOptions.SectionName;

    /// <summary>A manifest is held in memory while it is validated: keep the ceiling modest.</summary>
    public const long ManifestBytesCeiling = 64 * 1024 * 1024;

    public ValidateOptionsResult Validate(string? name, OriginOptions options)
    {
        var failures = new List<string>();
        failures.AddRange(options.Tls.Validate($"{S}:Tls"));
        failures.AddRange(options.Cluster.Validate(options.Tls.HasServerCertificate && options.Tls.EffectiveClientCaPath is not null));
        if (listenUrls is not null)
        {
            var urls = listenUrls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            failures.AddRange(options.Tls.ValidateListeners($"{S}:Tls", urls.Select(url => ("urls", (string?)url))));
        }

        if (string.IsNullOrWhiteSpace(options.StoragePath))
        {
            failures.Add($"{S}:StoragePath must name a directory; got '{options.StoragePath}'.");
        }
        else if (CheckWritable(options.StoragePath) is { } problem)
        {
            failures.Add($"{S}:StoragePath '{options.StoragePath}' is not a writable directory: {problem}");
        }

        if (options.MaxManifestBytes is < 1 or > ManifestBytesCeiling)
        {
            failures.Add($"{S}:MaxManifestBytes must be between 1 and {ManifestBytesCeiling}; got '{options.MaxManifestBytes}'.");
        }

        if (options.MaxUploadBytes < 1)
        {
            failures.Add($"{S}:MaxUploadBytes must be positive; got '{options.MaxUploadBytes}'.");
        }

        if (options.MaxUploadSessions is < 1 or > 1_000_000)
        {
            failures.Add($"{S}:MaxUploadSessions must be between 1 and 1000000; got '{options.MaxUploadSessions}'.");
        }

        if (options.MaxUploadSessionsPerClient < 1 || (options.MaxUploadSessions >= 1 && options.MaxUploadSessionsPerClient > options.MaxUploadSessions))
        {
            failures.Add($"{S}:MaxUploadSessionsPerClient must be between 1 and {S}:MaxUploadSessions ({options.MaxUploadSessions}); got '{options.MaxUploadSessionsPerClient}'.");
        }

        if (options.MaxUploadBytesInFlight < 1)
        {
            failures.Add($"{S}:MaxUploadBytesInFlight must be positive; got '{options.MaxUploadBytesInFlight}'.");
        }

        if (options.UploadExpiry <= TimeSpan.Zero || options.UploadExpiry > TimeSpan.FromDays(30))
        {
            failures.Add($"{S}:UploadExpiry must be between 00:00:00.001 and 30.00:00:00; got '{options.UploadExpiry}'.");
        }

        failures.AddRange(Collection.GcOptionsValidator.Validate(options));

        var peer = options.Peer;
        if (peer.Port is < 0 or > 65535)
        {
            failures.Add($"{S}:Peer:Port must be between 0 (any free port) and 65535; got '{peer.Port}'.");
        }

        if (!System.Net.IPAddress.TryParse(peer.Address, out var peerAddress))
        {
            failures.Add($"{S}:Peer:Address must be a literal IP address; got '{peer.Address}'.");
        }

        if (!string.IsNullOrEmpty(peer.AdvertiseAddress))
        {
            if (!System.Net.IPAddress.TryParse(peer.AdvertiseAddress, out var advertised) || advertised.Equals(System.Net.IPAddress.Any) || advertised.Equals(System.Net.IPAddress.IPv6Any))
            {
                failures.Add($"{S}:Peer:AdvertiseAddress must be a literal IP address peers can dial; got '{peer.AdvertiseAddress}'.");
            }
        }
        else if (peerAddress is not null && (peerAddress.Equals(System.Net.IPAddress.Any) || peerAddress.Equals(System.Net.IPAddress.IPv6Any)))
        {
            failures.Add($"{S}:Peer:Address is the wildcard '{peer.Address}': set {S}:Peer:AdvertiseAddress to the address peers dial.");
        }

        if (peer.IdleSeedTimeout < TimeSpan.FromSeconds(1) || peer.IdleSeedTimeout > TimeSpan.FromDays(7))
        {
            failures.Add($"{S}:Peer:IdleSeedTimeout must be between 00:00:01 and 7.00:00:00; got '{peer.IdleSeedTimeout}'.");
        }

        var push = options.Push;
        var hasPassword = !string.IsNullOrEmpty(push.Password);
        var hasFile = !string.IsNullOrEmpty(push.PasswordFile);
        if (push.Enabled)
        {
            if (push.Username!.Contains(':', StringComparison.Ordinal))
            {
                failures.Add($"{S}:Push:Username must not contain ':' (HTTP Basic separates on it); got '{push.Username}'.");
            }

            if (hasPassword == hasFile)
            {
                failures.Add($"{S}:Push:Username is set ('{push.Username}'): set exactly one of {S}:Push:Password or {S}:Push:PasswordFile.");
            }
            else if (hasFile && !File.Exists(push.PasswordFile))
            {
                failures.Add($"{S}:Push:PasswordFile '{push.PasswordFile}' does not exist.");
            }
        }
        else if (hasPassword || hasFile)
        {
            failures.Add($"{S}:Push:Password or {S}:Push:PasswordFile is set but {S}:Push:Username is empty.");
        }

        ValidatePushUsers(push, failures);
        ValidateRegistryNames(options, failures);
        ValidateUpstreams(options, failures);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void ValidatePushUsers(PushOptions push, List<string> failures)
    {
        IReadOnlyDictionary<string, string>? htpasswd = null;
        if (!string.IsNullOrEmpty(push.HtpasswdFile))
        {
            try
            {
                htpasswd = Authorization.Htpasswd.Parse(File.ReadAllText(push.HtpasswdFile), push.HtpasswdFile);
            }
            catch (FormatException ex)
            {
                failures.Add($"{S}:Push:HtpasswdFile: {ex.Message}");
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                failures.Add($"{S}:Push:HtpasswdFile '{push.HtpasswdFile}' cannot be read: {ex.Message}");
            }

            if (htpasswd is not null && push.Enabled && htpasswd.ContainsKey(push.Username!))
            {
                failures.Add($"{S}:Push:Username '{push.Username}' is also a user of {S}:Push:HtpasswdFile: keep one of them.");
            }
        }
        else if (push.Users.Count > 0)
        {
            failures.Add($"{S}:Push:Users is set but {S}:Push:HtpasswdFile is empty: the users' passwords come from that file.");
        }

        foreach (var (user, rights) in push.Users)
        {
            if (htpasswd is not null && !htpasswd.ContainsKey(user))
            {
                failures.Add($"{S}:Push:Users:{user} is not a user of the htpasswd file '{push.HtpasswdFile}'.");
            }

            for (var i = 0; i < rights.Prefixes.Count; i++)
            {
                if (Authorization.RepositoryPrefix.TryParse(rights.Prefixes[i]) is null)
                {
                    failures.Add($"{S}:Push:Users:{user}:Prefixes:{i} must be '*' or a repository name such as 'team/'; got '{rights.Prefixes[i]}'.");
                }
            }
        }

        if (push.MaxFailedAttempts is < 1 or > 1000)
        {
            failures.Add($"{S}:Push:MaxFailedAttempts must be between 1 and 1000; got '{push.MaxFailedAttempts}'.");
        }

        if (push.FailureWindow < TimeSpan.FromSeconds(1) || push.FailureWindow > TimeSpan.FromDays(1))
        {
            failures.Add($"{S}:Push:FailureWindow must be between 00:00:01 and 1.00:00:00; got '{push.FailureWindow}'.");
        }

        if (push.MaxTrackedClients is < 1 or > 1_000_000)
        {
            failures.Add($"{S}:Push:MaxTrackedClients must be between 1 and 1000000; got '{push.MaxTrackedClients}'.");
        }
    }

    private static void ValidateRegistryNames(OriginOptions options, List<string> failures)
    {
        var upstreams = new HashSet<string>(options.Upstreams.Select(u => u.Name ?? ""), StringComparer.OrdinalIgnoreCase) { Upstream.UpstreamCatalog.DockerHubName };
        for (var i = 0; i < options.RegistryNames.Count; i++)
        {
            var name = options.RegistryNames[i];
            if (!Upstream.UpstreamCatalog.IsValidRegistryName(name))
            {
                failures.Add($"{S}:RegistryNames:{i} must be a host[:port] clients use for this origin, such as 'registry.example.com:5000'; got '{name}'.");
            }
            else if (upstreams.Contains(name))
            {
                // An ns must name one source: an upstream's images, or what was pushed here.
                failures.Add($"{S}:RegistryNames:{i} '{name}' is also an upstream's name: pushed content would shadow that upstream.");
            }
        }
    }

    private static void ValidateUpstreams(OriginOptions options, List<string> failures)
    {
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        if (options.DockerHub.Enabled)
        {
            names.Add(Upstream.UpstreamCatalog.DockerHubName);
        }

        var listed = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        // Pulled-through content lives under the upstream's local prefix: two names with one prefix would share repositories.
        var prefixes = new Dictionary<string, (string Name, string Key)>(StringComparer.Ordinal);
        if (options.DockerHub.Enabled)
        {
            prefixes[Upstream.UpstreamCatalog.LocalPrefix(Upstream.UpstreamCatalog.DockerHubName)] = (Upstream.UpstreamCatalog.DockerHubName, "the built-in docker.io");
        }

        for (var i = 0; i < options.Upstreams.Count; i++)
        {
            var item = options.Upstreams[i];
            var key = $"{S}:Upstreams:{i}";
            if (!Upstream.UpstreamCatalog.IsValidRegistryName(item.Name))
            {
                failures.Add($"{key}:Name must be a registry host[:port] such as 'ghcr.io' or 'registry.example.com:5000'; got '{item.Name}'.");
            }
            else if (!listed.Add(item.Name!))
            {
                failures.Add($"{key}:Name '{item.Name}' is listed twice.");
            }
            else
            {
                names.Add(item.Name!);
                var prefix = Upstream.UpstreamCatalog.LocalPrefix(item.Name!);
                if (prefixes.TryGetValue(prefix, out var other) && !string.Equals(other.Name, item.Name, StringComparison.OrdinalIgnoreCase))
                {
                    failures.Add($"{key}:Name '{item.Name}' keeps pulled-through content under the local prefix '{prefix}/', as '{other.Name}' ({other.Key}) does: rename one.");
                }
                else
                {
                    prefixes[prefix] = (item.Name!, $"{key}:Name");
                }
            }

            if (!Uri.TryCreate(item.Url, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https") || !string.IsNullOrEmpty(url.Query) || !string.IsNullOrEmpty(url.UserInfo))
            {
                failures.Add($"{key}:Url must be an absolute http(s) URL without query or user info; got '{Redact.UserInfo(item.Url)}'.");
            }
            else if (url.AbsolutePath != "/")
            {
                // The registry API is at /v2/ from the host root (the distribution spec); a path would be ignored.
                failures.Add($"{key}:Url must have no path (the registry API is at /v2/ on its host); got '{Redact.UserInfo(item.Url)}'.");
            }
            else if (url.Scheme == "http" && !item.AllowHttp)
            {
                failures.Add($"{key}:Url '{Redact.UserInfo(item.Url)}' is plain http: set {key}:AllowHttp=true to allow it.");
            }

            for (var r = 0; r < item.TokenRealms.Count; r++)
            {
                if (!IsHostAndPort(item.TokenRealms[r]))
                {
                    failures.Add($"{key}:TokenRealms:{r} must be a host or host:port such as 'auth.docker.io'; got '{Redact.UserInfo(item.TokenRealms[r])}'.");
                }
            }

            var hasPassword = !string.IsNullOrEmpty(item.Password);
            var hasFile = !string.IsNullOrEmpty(item.PasswordFile);
            if (!string.IsNullOrEmpty(item.Username))
            {
                if (item.Username.Contains(':', StringComparison.Ordinal))
                {
                    failures.Add($"{key}:Username must not contain ':' (HTTP Basic separates on it); got '{item.Username}'.");
                }

                if (hasPassword == hasFile)
                {
                    failures.Add($"{key}:Username is set ('{item.Username}'): set exactly one of {key}:Password or {key}:PasswordFile.");
                }
                else if (hasFile && !File.Exists(item.PasswordFile))
                {
                    failures.Add($"{key}:PasswordFile '{item.PasswordFile}' does not exist.");
                }
            }
            else if (hasPassword || hasFile)
            {
                failures.Add($"{key}:Password or {key}:PasswordFile is set but {key}:Username is empty ('').");
            }
        }

        if (!string.IsNullOrEmpty(options.DefaultUpstream) && !names.Contains(options.DefaultUpstream))
        {
            failures.Add($"{S}:DefaultUpstream must name a configured upstream ({string.Join(", ", names.Order(StringComparer.Ordinal))}); got '{Redact.UserInfo(options.DefaultUpstream)}'.");
        }

        var upstreamTimeoutValid = options.UpstreamTimeout >= TimeSpan.FromSeconds(1) && options.UpstreamTimeout <= TimeSpan.FromMinutes(10);
        if (!upstreamTimeoutValid)
        {
            failures.Add($"{S}:UpstreamTimeout must be between 00:00:01 and 00:10:00; got '{options.UpstreamTimeout}'.");
        }

        // Longer than the exchange it bounds would mean nothing; an invalid UpstreamTimeout is reported on its own.
        var revalidationCeiling = upstreamTimeoutValid ? options.UpstreamTimeout : TimeSpan.FromMinutes(10);
        if (options.RevalidationTimeout < TimeSpan.FromMilliseconds(100) || options.RevalidationTimeout > revalidationCeiling)
        {
            failures.Add($"{S}:RevalidationTimeout must be between 00:00:00.1 and the upstream timeout ({revalidationCeiling}); got '{options.RevalidationTimeout}'.");
        }

        if (options.UpstreamIdleTimeout < TimeSpan.FromSeconds(1) || options.UpstreamIdleTimeout > TimeSpan.FromMinutes(10))
        {
            failures.Add($"{S}:UpstreamIdleTimeout must be between 00:00:01 and 00:10:00; got '{options.UpstreamIdleTimeout}'.");
        }

        if (options.UpstreamFillTimeout < TimeSpan.FromSeconds(1) || options.UpstreamFillTimeout > TimeSpan.FromDays(1))
        {
            failures.Add($"{S}:UpstreamFillTimeout must be between 00:00:01 and 1.00:00:00; got '{options.UpstreamFillTimeout}'.");
        }

        if (options.MaxConcurrentFills is < 1 or > 10_000)
        {
            failures.Add($"{S}:MaxConcurrentFills must be between 1 and 10000; got '{options.MaxConcurrentFills}'.");
        }

        if (options.FillQueueTimeout < TimeSpan.Zero || options.FillQueueTimeout > TimeSpan.FromMinutes(1))
        {
            failures.Add($"{S}:FillQueueTimeout must be between 00:00:00 and 00:01:00; got '{options.FillQueueTimeout}'.");
        }

        if (options.UpstreamNotFoundCacheTime < TimeSpan.Zero || options.UpstreamNotFoundCacheTime > TimeSpan.FromHours(1))
        {
            failures.Add($"{S}:UpstreamNotFoundCacheTime must be between 00:00:00 (off) and 01:00:00; got '{options.UpstreamNotFoundCacheTime}'.");
        }

        if (options.UpstreamNotFoundCacheEntries is < 1 or > 10_000_000)
        {
            failures.Add($"{S}:UpstreamNotFoundCacheEntries must be between 1 and 10000000; got '{options.UpstreamNotFoundCacheEntries}'.");
        }

        if (options.TokenCacheEntries is < 1 or > 1_000_000)
        {
            failures.Add($"{S}:TokenCacheEntries must be between 1 and 1000000; got '{options.TokenCacheEntries}'.");
        }

        if (options.TokenCacheMaxLifetime < TimeSpan.Zero || options.TokenCacheMaxLifetime > TimeSpan.FromDays(1))
        {
            failures.Add($"{S}:TokenCacheMaxLifetime must be between 00:00:00 (no reuse) and 1.00:00:00; got '{options.TokenCacheMaxLifetime}'.");
        }
    }

    private static bool IsHostAndPort(string? value) =>
        !string.IsNullOrWhiteSpace(value) && Uri.CheckHostName(value.Split(':')[0]) != UriHostNameType.Unknown
        && Uri.TryCreate($"https://{value}/", UriKind.Absolute, out var uri) && uri.Authority.Length > 0
        && string.IsNullOrEmpty(uri.UserInfo) && uri.AbsolutePath == "/";

    private static string? CheckWritable(string path)
    {
        try
        {
            Directory.CreateDirectory(path);
            var probe = Path.Combine(path, $".probe-{Guid.NewGuid():N}");
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return ex.Message;
        }
    }
}
