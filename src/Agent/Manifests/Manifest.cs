using P2PRegistry.Core.Content;

namespace P2PRegistry.Agent.Manifests;

/// <summary>A manifest exactly as stored: its bytes, the media type to send as Content-Type, its digest.</summary>
public sealed record Manifest(ReadOnlyMemory<byte> Content, string MediaType, Digest Digest);
