namespace P2PRegistry.Core.Placement;

/// <summary>
/// The rule for a topology label (a peer's zone or rack): empty (unknown), or at most 63 characters of
/// <c>[A-Za-z0-9._-]</c> that begin and end with a letter or digit — the syntax of a Kubernetes label value, so a
/// node's <c>topology.kubernetes.io/zone</c> passes as it is. Agents check it at start, the tracker on every announce.
/// </summary>
public static class TopologyLabel
{
    /// <summary>The longest label accepted (a Kubernetes label value's limit).</summary>
    public const int MaxLength = 63;

    public static bool IsValid(string? value) => Problem(value) is null;

    /// <summary>Why <paramref name="value"/> is not a label, or null when it is one (an empty or null value is: unknown).</summary>
    public static string? Problem(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        if (value.Length > MaxLength)
        {
            return $"is {value.Length} characters long; at most {MaxLength} are allowed";
        }

        foreach (var c in value)
        {
            if (!IsAlphanumeric(c) && c is not ('-' or '_' or '.'))
            {
                return $"contains '{(char.IsControl(c) ? '?' : c)}' (U+{(int)c:X4}); only letters, digits, '-', '_' and '.' are allowed";
            }
        }

        return IsAlphanumeric(value[0]) && IsAlphanumeric(value[^1]) ? null : "must begin and end with a letter or digit";
    }

    private static bool IsAlphanumeric(char c) => char.IsAsciiLetterOrDigit(c);
}
