using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace P2PRegistry.Core.Placement;

/// <summary>
/// Rendezvous (highest random weight) hashing over a fixed list of nodes: each key ranks every node by
/// <c>weight(node, key)</c> = the first 8 bytes (big endian) of SHA-256(node id, 0x00, key), highest first, ties by
/// ordinal node id. Adding or removing a node moves only the keys that rank it first (about 1/n of them), and every
/// process that knows the same node ids ranks a key the same way, with no coordination. Used to choose a blob's
/// tracker (agents) and a blob's replica origins (origins, trackers).
/// </summary>
public sealed class RendezvousRing
{
    /// <summary>A node id longer than this is refused (it is hashed on every lookup).</summary>
    public const int MaxNodeIdBytes = 512;

    private readonly byte[][] _prefixes;

    /// <param name="nodeIds">The nodes, e.g. their base URLs; non-empty, distinct (ordinal), none empty.</param>
    public RendezvousRing(IReadOnlyList<string> nodeIds)
    {
        ArgumentNullException.ThrowIfNull(nodeIds);
        if (nodeIds.Count == 0)
        {
            throw new ArgumentException("A rendezvous ring needs at least one node.", nameof(nodeIds));
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        _prefixes = new byte[nodeIds.Count][];
        for (var i = 0; i < nodeIds.Count; i++)
        {
            var id = nodeIds[i];
            if (string.IsNullOrEmpty(id))
            {
                throw new ArgumentException($"Node {i} has an empty id.", nameof(nodeIds));
            }

            if (!seen.Add(id))
            {
                throw new ArgumentException($"Node id '{id}' appears twice.", nameof(nodeIds));
            }

            var length = Encoding.UTF8.GetByteCount(id);
            if (length > MaxNodeIdBytes)
            {
                throw new ArgumentException($"Node id '{id[..32]}…' is longer than {MaxNodeIdBytes} bytes.", nameof(nodeIds));
            }

            var prefix = new byte[length + 1];
            Encoding.UTF8.GetBytes(id, prefix);
            _prefixes[i] = prefix; // the trailing 0x00 separates the id from the key
        }

        NodeIds = [.. nodeIds];
    }

    public IReadOnlyList<string> NodeIds { get; }

    /// <summary>
    /// A node's id from its URL, the one spelling every process must use (origins rank their members, trackers their
    /// origins, agents their origins and trackers, and placement holds only when all produce the same strings):
    /// <c>scheme://host[:port]/path</c> — surrounding white space trimmed, scheme and host lower case, the scheme's
    /// default port dropped (any other kept), the path kept as written but without trailing slashes, no user info,
    /// query or fragment. <c>HTTP://Origin-0:80/</c> and <c>http://origin-0</c> are one node.
    /// </summary>
    /// <exception cref="ArgumentException">Not an absolute URL.</exception>
    public static string NodeId(string url) =>
        TryNodeId(url, out var id) ? id : throw new ArgumentException($"'{url}' is not an absolute URL.", nameof(url));

    /// <summary><see cref="NodeId"/>, or false for anything that is no absolute URL with a host.</summary>
    public static bool TryNodeId(string? url, out string id)
    {
        id = string.Empty;
        if (url is null || !Uri.TryCreate(url.Trim(), UriKind.Absolute, out var uri) || uri.IsFile || uri.HostNameType == UriHostNameType.Unknown || uri.Host.Length == 0)
        {
            return false;
        }

        // Uri lower-cases scheme and host already; IPv6 hosts keep their brackets.
        var builder = new StringBuilder(uri.Scheme.Length + uri.Host.Length + uri.AbsolutePath.Length + 9)
            .Append(uri.Scheme.ToLowerInvariant()).Append("://").Append(uri.Host.ToLowerInvariant());
        if (!uri.IsDefaultPort)
        {
            builder.Append(':').Append(uri.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        id = builder.Append(uri.AbsolutePath.TrimEnd('/')).ToString();
        return true;
    }

    public int Count => NodeIds.Count;

    /// <summary>The weight of one node for one key (exposed for tests and diagnostics).</summary>
    public ulong Weight(int node, ReadOnlySpan<byte> key)
    {
        var prefix = _prefixes[node];
        var length = prefix.Length + key.Length;
        var buffer = length <= 1024 ? stackalloc byte[length] : new byte[length];
        prefix.CopyTo(buffer);
        key.CopyTo(buffer[prefix.Length..]);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(buffer, hash);
        return BinaryPrimitives.ReadUInt64BigEndian(hash);
    }

    /// <summary>Every node's index, best first, for <paramref name="key"/>.</summary>
    public int[] Rank(ReadOnlySpan<byte> key)
    {
        var weights = new ulong[Count];
        var order = new int[Count];
        for (var i = 0; i < Count; i++)
        {
            weights[i] = Weight(i, key);
            order[i] = i;
        }

        var ids = NodeIds;
        Array.Sort(order, (a, b) =>
        {
            var byWeight = weights[b].CompareTo(weights[a]);
            return byWeight != 0 ? byWeight : string.CompareOrdinal(ids[a], ids[b]);
        });
        return order;
    }

    /// <summary>The first <paramref name="count"/> node indices for <paramref name="key"/> (all when there are fewer).</summary>
    public int[] Top(ReadOnlySpan<byte> key, int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 0);
        var ranked = Rank(key);
        return count >= ranked.Length ? ranked : ranked[..count];
    }

    /// <summary>The ranking of a string key (its UTF-8 bytes), e.g. a digest <c>sha256:…</c>.</summary>
    public int[] Rank(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Rank(Encoding.UTF8.GetBytes(key));
    }
}
