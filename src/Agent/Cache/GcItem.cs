using P2PRegistry.Core.Content;

namespace P2PRegistry.Agent.Cache;

/// <summary>
/// One thing the collector may remove: <paramref name="Bytes"/> on disk, last read, served or seeded at
/// <paramref name="LastUsed"/>, written at <paramref name="Added"/>; <paramref name="Pinned"/> while it is being read,
/// seeded or downloaded.
/// </summary>
internal readonly record struct GcItem(GcItemKind Kind, Digest Digest, long Bytes, DateTimeOffset LastUsed, DateTimeOffset Added, bool Pinned);
