using System.Security.Cryptography;
using System.Text;

namespace P2PRegistry.Origin.Cluster;

/// <summary>The shared secret of the cluster API: sent as <see cref="HeaderName"/>, compared in constant time.</summary>
internal sealed class ClusterSecret
{
    public const string HeaderName = "X-P2P-Cluster-Secret";
    public const int MinimumLength = 16;

    private readonly byte[] _hash;

    public ClusterSecret(string value)
    {
        Value = value;
        _hash = SHA256.HashData(Encoding.UTF8.GetBytes(value));
    }

    public string Value { get; }

    public static string Read(string path) => File.ReadAllText(path).TrimEnd('\r', '\n');

    /// <summary>
    /// Hashing both sides first makes the comparison take the same time whatever the length of the candidate, and
    /// <see cref="CryptographicOperations.FixedTimeEquals"/> the same time whatever its first wrong byte.
    /// </summary>
    public bool Matches(string? candidate)
    {
        if (string.IsNullOrEmpty(candidate))
        {
            return false;
        }

        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(candidate), hash);
        return CryptographicOperations.FixedTimeEquals(hash, _hash);
    }
}
