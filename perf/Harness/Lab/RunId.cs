using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace P2PRegistry.Harness.Lab;

/// <summary>
/// A run's unique name. Every namespace and work folder a run creates starts with <see cref="Prefix"/> and the
/// run's id, so concurrent runs never collide and <c>--cleanup</c> finds leftovers without touching anything else.
/// </summary>
internal sealed partial class RunId
{
    public const string Prefix = "p2ph-";

    private RunId(string id) => Id = id;

    /// <summary>8 lowercase hex characters.</summary>
    public string Id { get; }

    /// <summary><c>p2ph-&lt;id&gt;</c>: the start of every name this run owns.</summary>
    public string RunPrefix => Prefix + Id;

    public string HubNamespace => RunPrefix + "-hub";

    public string SeedNamespace => RunPrefix + "-seed";

    public string ClientNamespace(int index) =>
        index >= 1 ? $"{RunPrefix}-c{index}" : throw new ArgumentOutOfRangeException(nameof(index), index, "Clients count from 1.");

    public static RunId New() => new(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4)));

    public static RunId Parse(string id) =>
        IdPattern().IsMatch(id) ? new RunId(id) : throw new FormatException($"'{id}' is not a run id (8 lowercase hex characters).");

    /// <summary>The run id in a namespace or folder name this harness made, or null for a name that is not ours.</summary>
    public static string? IdOf(string name)
    {
        var match = NamePattern().Match(name);
        return match.Success ? match.Groups[1].Value : null;
    }

    public override string ToString() => RunPrefix;

    [GeneratedRegex("^[0-9a-f]{8}$")]
    private static partial Regex IdPattern();

    [GeneratedRegex("^p2ph-([0-9a-f]{8})(-[a-z0-9]+)?$")]
    private static partial Regex NamePattern();
}
