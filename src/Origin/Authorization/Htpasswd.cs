namespace P2PRegistry.Origin.Authorization;

/// <summary>
/// The users of an htpasswd file, bcrypt entries only (what <c>htpasswd -B</c> writes and docker-registry reads):
/// one <c>user:$2y$&lt;cost&gt;$&lt;53 characters&gt;</c> per line; blank lines and lines starting with <c>#</c> are
/// skipped. Older formats (<c>{SHA}</c>, <c>$apr1$</c>, crypt, plain) are refused: they are fast to brute-force.
/// Errors name the file and line, never the hash.
/// </summary>
internal static class Htpasswd
{
    /// <summary>Users by name with their bcrypt hashes.</summary>
    /// <exception cref="FormatException">A line that is not a bcrypt entry; the message names <paramref name="source"/> and the line.</exception>
    public static IReadOnlyDictionary<string, string> Parse(string text, string source)
    {
        var users = new Dictionary<string, string>(StringComparer.Ordinal);
        var lineNumber = 0;
        foreach (var raw in text.Split('\n'))
        {
            lineNumber++;
            var line = raw.TrimEnd('\r');
            if (line.Trim().Length == 0 || line.TrimStart().StartsWith('#'))
            {
                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
            {
                throw Bad(source, lineNumber, "expected 'user:hash' (no ':' found)");
            }

            var user = line[..colon];
            var hash = line[(colon + 1)..];
            if (user.Length == 0 || user.Trim().Length != user.Length || user.Any(char.IsControl))
            {
                throw Bad(source, lineNumber, "the user name is empty or has surrounding spaces or control characters");
            }

            if (!IsBcrypt(hash))
            {
                throw Bad(source, lineNumber, $"user '{user}' does not have a bcrypt hash ($2y$, $2b$ or $2a$ with a cost of 04-31; create it with 'htpasswd -B')");
            }

            if (!users.TryAdd(user, hash))
            {
                throw Bad(source, lineNumber, $"user '{user}' is listed twice");
            }
        }

        return users;
    }

    /// <summary><c>$2y$NN$</c> + 22 characters of salt + 31 of hash, in bcrypt's base-64 alphabet.</summary>
    internal static bool IsBcrypt(string hash)
    {
        if (hash.Length != 60 || hash[0] != '$' || hash[1] != '2' || hash[2] is not ('y' or 'b' or 'a') || hash[3] != '$' || hash[6] != '$')
        {
            return false;
        }

        if (!char.IsAsciiDigit(hash[4]) || !char.IsAsciiDigit(hash[5]) || (hash[4] - '0') * 10 + (hash[5] - '0') is < 4 or > 31)
        {
            return false;
        }

        for (var i = 7; i < hash.Length; i++)
        {
            if (!(char.IsAsciiLetterOrDigit(hash[i]) || hash[i] is '.' or '/'))
            {
                return false;
            }
        }

        return true;
    }

    private static FormatException Bad(string source, int line, string problem) => new($"htpasswd file '{source}' line {line}: {problem}.");
}
