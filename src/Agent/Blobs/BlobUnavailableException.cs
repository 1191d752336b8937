namespace P2PRegistry.Agent.Blobs;

/// <summary>The agent cannot serve a blob now (unknown to the origin, tracker down, no peers).</summary>
public sealed class BlobUnavailableException(string reason, Exception? inner = null) : Exception(reason, inner);
