using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using P2PRegistry.Core.Content;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Core.Wire;
using P2PRegistry.Swarm.Tracking;

namespace P2PRegistry.Agent.Tracking;

/// <summary>
/// Sits between the swarm engine and the tracker client and remembers, per swarm, how many peers the last
/// announce handed out. A reader waiting for its first piece uses it to tell "nobody serves this blob" (answer
/// 404 at once, containerd moves on) from "sources exist, the connections are still being made" (keep waiting
/// a little longer: a machine under load may take more than the miss timeout to connect).
/// </summary>
internal sealed class AnnounceWatch(ITrackerClient inner) : ITrackerClient
{
    private readonly ConcurrentDictionary<InfoHash, int> _peersHandedOut = new();

    /// <summary>Peers the last answered announce of this swarm listed; null before any answer.</summary>
    public int? PeersHandedOut(InfoHash infoHash) => _peersHandedOut.TryGetValue(infoHash, out var count) ? count : null;

    public async Task<AnnounceResult> AnnounceAsync(InfoHash infoHash, Digest digest, PeerId peerId, int port, bool complete, long bytesLeft,
        AnnounceEvent announceEvent, CancellationToken cancellationToken)
    {
        var result = await inner.AnnounceAsync(infoHash, digest, peerId, port, complete, bytesLeft, announceEvent, cancellationToken).ConfigureAwait(false);
        if (announceEvent == AnnounceEvent.Stopped)
        {
            _peersHandedOut.TryRemove(infoHash, out _);
        }
        else
        {
            _peersHandedOut[infoHash] = result.Peers.Count;
        }

        return result;
    }

    /// <summary>Wraps whichever <see cref="ITrackerClient"/> was registered last (the gRPC client, or a test's).</summary>
    public static void Decorate(IServiceCollection services)
    {
        var registered = services.LastOrDefault(d => d.ServiceType == typeof(ITrackerClient))
            ?? throw new InvalidOperationException("No ITrackerClient is registered.");
        services.RemoveAll<ITrackerClient>();
        services.AddSingleton(sp => new AnnounceWatch(Resolve(registered, sp)));
        services.AddSingleton<ITrackerClient>(sp => sp.GetRequiredService<AnnounceWatch>());
    }

    private static ITrackerClient Resolve(ServiceDescriptor descriptor, IServiceProvider services) => (ITrackerClient)(
        descriptor.ImplementationInstance
        ?? descriptor.ImplementationFactory?.Invoke(services)
        ?? ActivatorUtilities.CreateInstance(services, descriptor.ImplementationType!));
}
