using P2PRegistry.Core.Content;

namespace P2PRegistry.Agent.Cache;

/// <summary>A cached blob as <see cref="BlobCache.Snapshot"/> saw it.</summary>
public readonly record struct CachedBlob(Digest Digest, long Length, DateTimeOffset LastUsed, DateTimeOffset Added, bool BeingRead);
