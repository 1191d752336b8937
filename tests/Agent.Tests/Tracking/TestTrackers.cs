using Grpc.Core;
using P2PRegistry.Agent.Tracking;
using P2PRegistry.Core.Content;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Core.Wire;
using P2PRegistry.Swarm.Tracking;

namespace P2PRegistry.Agent.Tests.Tracking;

/// <summary>A scripted tracker for the failover tests: answers, refuses, or fails as if unreachable; counts its calls.</summary>
internal sealed class ScriptedTracker : ITrackerClient, IMetaInfoSource, IDisposable
{
    public ScriptedTracker(string url) => Url = url;

    public string Url { get; }

    public TrackerBehaviour Behaviour { get; set; }

    public MetaInfo? MetaInfo { get; set; }

    public int Calls;

    public bool Disposed { get; private set; }

    public TrackerEndpoint Endpoint() => new(Url, this, this, this);

    public Task<AnnounceResult> AnnounceAsync(InfoHash infoHash, Digest digest, PeerId peerId, int port, bool complete, long bytesLeft, AnnounceEvent announceEvent, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref Calls);
        return Behaviour switch
        {
            TrackerBehaviour.Answer => Task.FromResult(new AnnounceResult([new TrackerPeer(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 6881), null, false)], TimeSpan.FromSeconds(2))),
            TrackerBehaviour.Refuse => throw new TrackerException("refused", new RpcException(new Status(StatusCode.PermissionDenied, "no"))),
            TrackerBehaviour.Unreachable => throw new TrackerException("unreachable", new RpcException(new Status(StatusCode.Unavailable, "connection refused"))),
            _ => throw new TrackerException("deadline", new RpcException(new Status(StatusCode.DeadlineExceeded, "slow"))),
        };
    }

    public Task<MetaInfo?> GetMetaInfoAsync(Digest digest, string registryNamespace, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref Calls);
        return Behaviour switch
        {
            TrackerBehaviour.Answer => Task.FromResult(MetaInfo),
            TrackerBehaviour.Refuse => Task.FromResult<MetaInfo?>(null),
            TrackerBehaviour.Unreachable => throw new MetaInfoUnavailableException("unreachable", new RpcException(new Status(StatusCode.Unavailable, "connection refused"))),
            _ => throw new MetaInfoUnavailableException("deadline", new RpcException(new Status(StatusCode.DeadlineExceeded, "slow"))),
        };
    }

    public void Dispose() => Disposed = true;
}

internal enum TrackerBehaviour
{
    Answer,
    Refuse,
    Unreachable,
    Timeout,
}
