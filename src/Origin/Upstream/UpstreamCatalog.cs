using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using P2PRegistry.Origin.Configuration;

namespace P2PRegistry.Origin.Upstream;

/// <summary>
/// The configured upstream registries by name (what clients send as <c>ns</c>), each with its own
/// <see cref="UpstreamClient"/> over one shared connection pool and token cache.
/// </summary>
internal sealed partial class UpstreamCatalog : IDisposable
{
    public const string DockerHubName = "docker.io";
    public static readonly Uri DockerHubUrl = new("https://registry-1.docker.io");
    public const string DockerHubTokenRealm = "auth.docker.io";

    private readonly Dictionary<string, UpstreamClient> _clients = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, string> _prefixes = new(StringComparer.Ordinal);
    private readonly List<HttpClient> _http = [];

    public UpstreamCatalog(IOptions<OriginOptions> options, TimeProvider time, ILogger<UpstreamClient> logger)
    {
        var value = options.Value;
        DefaultUpstream = string.IsNullOrEmpty(value.DefaultUpstream) ? null : value.DefaultUpstream.ToLowerInvariant();
        var tokens = new TokenCache(time, value.TokenCacheEntries, value.TokenCacheMaxLifetime);
        foreach (var registry in Resolve(value))
        {
            // One connection pool per upstream: its redirect and address rules decide every connection in it.
            var http = new HttpClient(UpstreamConnector.CreateHandler(registry, TimeSpan.FromSeconds(10)))
            {
                // Blob bodies stream for as long as the fill timeout allows; callers bound every exchange themselves.
                Timeout = Timeout.InfiniteTimeSpan,
            };
            http.DefaultRequestHeaders.UserAgent.ParseAdd("P2PRegistry-Origin/1.0");
            _http.Add(http);
            _clients[registry.Name] = new UpstreamClient(http, registry, tokens, time, logger);
            _prefixes[LocalPrefix(registry.Name)] = registry.Name;
        }
    }

    /// <summary>The registry name used for requests without <c>ns</c>, or null (local content only).</summary>
    public string? DefaultUpstream { get; }

    public IEnumerable<UpstreamRegistry> Registries => _clients.Values.Select(c => c.Upstream);

    /// <summary>The client for <paramref name="ns"/> (or the default upstream when it is empty); null when none is configured.</summary>
    public UpstreamClient? Find(string? ns)
    {
        var name = string.IsNullOrEmpty(ns) ? DefaultUpstream : ns;
        return name is not null && _clients.TryGetValue(name, out var client) ? client : null;
    }

    /// <summary>
    /// The configured upstreams with <c>docker.io</c> added unless configured or switched off (<c>Origin:DockerHub:Enabled</c>), and passwords read from their
    /// files (trailing newlines trimmed, as secrets mounted from Kubernetes end with one). Options are validated first.
    /// </summary>
    public static IReadOnlyList<UpstreamRegistry> Resolve(OriginOptions options)
    {
        var registries = new List<UpstreamRegistry>();
        foreach (var item in options.Upstreams)
        {
            var password = item.Password;
            if (!string.IsNullOrEmpty(item.PasswordFile))
            {
                password = File.ReadAllText(item.PasswordFile).TrimEnd('\r', '\n');
            }

            registries.Add(new UpstreamRegistry
            {
                Name = item.Name!.ToLowerInvariant(),
                Url = new Uri(item.Url!),
                Username = string.IsNullOrEmpty(item.Username) ? null : item.Username,
                Password = string.IsNullOrEmpty(item.Username) ? null : password,
                AllowHttp = item.AllowHttp,
                TokenRealms = [.. item.TokenRealms],
                AllowInsecureRedirects = item.AllowInsecureRedirects,
                AllowPrivateRedirects = item.AllowPrivateRedirects,
            });
        }

        if (options.DockerHub.Enabled && !registries.Any(r => r.Name == DockerHubName))
        {
            // Docker Hub's challenges name auth.docker.io as the realm.
            registries.Add(new UpstreamRegistry { Name = DockerHubName, Url = DockerHubUrl, TokenRealms = [DockerHubTokenRealm] });
        }

        return registries;
    }

    /// <summary>A registry host with an optional port, as containerd sends it in <c>ns</c>.</summary>
    public static bool IsValidRegistryName(string? name) => name is { Length: > 0 and <= 255 } && RegistryNamePattern().IsMatch(name);

    /// <summary>
    /// The upstream whose pulled-through content <paramref name="repository"/> belongs to (its first path component
    /// is that upstream's local prefix), or null. Such repositories are written only by pull-through: a push there
    /// would be served as the upstream's content.
    /// </summary>
    public string? PulledThroughOwner(string repository)
    {
        var slash = repository.IndexOf('/', StringComparison.Ordinal);
        var first = slash < 0 ? repository : repository[..slash];
        return _prefixes.TryGetValue(first, out var upstream) ? upstream : null;
    }

    /// <summary>The first path component of the local repositories that upstream <paramref name="ns"/>'s content is kept in.</summary>
    public static string LocalPrefix(string ns) => ns.ToLowerInvariant().Replace(':', '-');

    /// <summary>
    /// The local repository pulled-through content of <paramref name="name"/> from upstream <paramref name="ns"/> is
    /// kept under, apart from pushed repositories: <c>docker.io/library/busybox</c>, <c>registry.example.com-5000/team/app</c>.
    /// Null if that is no valid repository name.
    /// </summary>
    public static string? LocalRepository(string ns, string name)
    {
        var local = $"{LocalPrefix(ns)}/{name}";
        return RepositoryName.IsValid(local) ? local : null;
    }

    public void Dispose()
    {
        foreach (var http in _http)
        {
            http.Dispose();
        }
    }

    [GeneratedRegex(@"^[a-zA-Z0-9]([a-zA-Z0-9.-]*[a-zA-Z0-9])?(:[0-9]{1,5})?$", RegexOptions.CultureInvariant)]
    private static partial Regex RegistryNamePattern();
}
