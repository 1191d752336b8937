using Microsoft.Extensions.Primitives;
using P2PRegistry.Agent.Configuration;

namespace P2PRegistry.Agent.Tracking;

/// <summary>
/// The agent's current <see cref="TrackerSet"/> and the trackers' <see cref="TrackerHealth"/>. When the configuration
/// reloads (<c>Agent:SettingsFile</c> changed) and the tracker list is different and valid, a new set replaces the
/// current one: channels of trackers still listed are kept, those of trackers removed are closed (a call still on one
/// fails over). An invalid list is logged and ignored.
/// </summary>
internal sealed class TrackerDirectory : IDisposable
{
    private readonly Func<string, TrackerEndpoint> _connect;
    private readonly IConfiguration? _configuration;
    private readonly ILogger _logger;
    private readonly IDisposable? _subscription;
    private readonly Lock _lock = new();
    private TrackerSet _current;

    /// <param name="urls">The trackers at start (validated by the options).</param>
    /// <param name="connect">Opens one tracker's channel and clients, given its normalised URL.</param>
    /// <param name="configuration">Watched for reloads; null for a fixed list.</param>
    public TrackerDirectory(IReadOnlyList<string> urls, Func<string, TrackerEndpoint> connect, TrackerHealth health, ILogger<TrackerDirectory> logger, IConfiguration? configuration = null)
    {
        _connect = connect;
        _configuration = configuration;
        _logger = logger;
        Health = health;
        _current = new TrackerSet([.. Normalise(urls).Select(connect)]);
        logger.TrackersConfigured(Describe(_current));
        if (configuration is not null)
        {
            _subscription = ChangeToken.OnChange(configuration.GetReloadToken, Reload);
        }
    }

    public TrackerSet Current => Volatile.Read(ref _current);

    public TrackerHealth Health { get; }

    /// <summary>Whether some tracker of the current list is reachable (<see cref="TrackerHealth.IsReachable"/>).</summary>
    public bool AnyReachable => Health.AnyReachable(Current.Endpoints.Select(e => e.Url));

    /// <summary>Re-reads <c>Agent:TrackerUrls</c> / <c>Agent:TrackerUrl</c> (the options' precedence) and applies them.</summary>
    internal void Reload()
    {
        if (_configuration is null)
        {
            return;
        }

        var section = _configuration.GetSection(AgentOptions.SectionName);
        List<string?> urls = [.. section.GetSection(nameof(AgentOptions.TrackerUrls)).GetChildren().Select(c => c.Value)];
        if (urls.Count == 0)
        {
            urls.Add(section[nameof(AgentOptions.TrackerUrl)] ?? new AgentOptions().TrackerUrl);
        }

        var errors = AgentOptions.ValidateTrackerUrls(urls).ToList();
        if (errors.Count > 0)
        {
            _logger.TrackerListRejected(string.Join(" ", errors), Describe(Current));
            return;
        }

        Apply(urls!);
    }

    /// <summary>Makes <paramref name="urls"/> the tracker list, if it differs from the current one.</summary>
    internal void Apply(IReadOnlyList<string> urls)
    {
        List<TrackerEndpoint> removed;
        lock (_lock)
        {
            var ids = Normalise(urls);
            var current = Current;
            if (ids.Count == current.Endpoints.Count && current.Endpoints.All(e => ids.Contains(e.Url)))
            {
                return;
            }

            var kept = current.Endpoints.Where(e => ids.Contains(e.Url)).ToDictionary(e => e.Url, StringComparer.Ordinal);
            var next = new TrackerSet([.. ids.Select(id => kept.TryGetValue(id, out var endpoint) ? endpoint : _connect(id))]);
            removed = [.. current.Endpoints.Where(e => !kept.ContainsKey(e.Url))];
            Volatile.Write(ref _current, next);
            Health.Retain(ids);
            _logger.TrackersConfigured(Describe(next));
        }

        foreach (var endpoint in removed)
        {
            endpoint.Dispose();
        }
    }

    private static List<string> Normalise(IReadOnlyList<string> urls) => [.. urls.Select(TrackerSet.NodeId).Distinct(StringComparer.Ordinal)];

    private static string Describe(TrackerSet set) => string.Join(", ", set.Endpoints.Select(e => e.Url));

    public void Dispose()
    {
        _subscription?.Dispose();
        foreach (var endpoint in Current.Endpoints)
        {
            endpoint.Dispose();
        }
    }
}
