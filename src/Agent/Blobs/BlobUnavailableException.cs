namespace P2PRegistry.Agent.Blobs;

/// <summary>The agent cannot serve a blob now (unknown to the origin, tracker down, no peers).</summary>
public sealed class BlobUnavailableException(string reason, Exception? inner = null) : Exception(reason, inner)
{
    /// <summary>A blob the cache could never hold is refused up front rather than downloaded and then dropped.</summary>
    internal static void ThrowIfLargerThanTheCache(long length, long cacheCapacityBytes)
    {
        if (cacheCapacityBytes > 0 && length > cacheCapacityBytes)
        {
            throw new BlobUnavailableException($"it is {length} bytes, more than the whole cache ({cacheCapacityBytes} bytes, Agent:CacheCapacityBytes)");
        }
    }
}
