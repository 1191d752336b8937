using P2PRegistry.Core.Content;
using P2PRegistry.Core.MetaInfos;

namespace P2PRegistry.Agent.Tracking;

/// <summary>Where the agent learns a blob's piece layout (the tracker, which asks the origin).</summary>
public interface IMetaInfoSource
{
    /// <summary>The MetaInfo, or null when no origin holds the blob.</summary>
    /// <exception cref="MetaInfoUnavailableException">The tracker or the origin cannot answer now.</exception>
    Task<MetaInfo?> GetMetaInfoAsync(Digest digest, string registryNamespace, CancellationToken cancellationToken);
}
