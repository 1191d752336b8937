using System.Text;

namespace P2PRegistry.Origin.Upstream;

/// <summary>
/// One challenge of a <c>WWW-Authenticate</c> header (RFC 9110 §11.6.1):
/// <c>Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"</c>.
/// Quoted values may contain commas and backslash escapes; one header may carry several challenges.
/// </summary>
public sealed class AuthChallenge
{
    private AuthChallenge(string scheme, IReadOnlyDictionary<string, string> parameters)
    {
        Scheme = scheme;
        Parameters = parameters;
    }

    public string Scheme { get; }

    /// <summary>Parameter names are case-insensitive.</summary>
    public IReadOnlyDictionary<string, string> Parameters { get; }

    public string? this[string name] => Parameters.GetValueOrDefault(name);

    public bool IsBearer => Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase);

    public bool IsBasic => Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase);

    /// <summary>Parses every challenge in every given header value; malformed parts are skipped, never thrown.</summary>
    public static IReadOnlyList<AuthChallenge> ParseAll(IEnumerable<string> headerValues)
    {
        var challenges = new List<AuthChallenge>();
        foreach (var value in headerValues)
        {
            Parse(value, challenges);
        }

        return challenges;
    }

    private static void Parse(string text, List<AuthChallenge> output)
    {
        var position = 0;
        string? scheme = null;
        var parameters = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        while (position < text.Length)
        {
            SkipWhitespaceAndCommas(text, ref position);
            var tokenStart = position;
            var token = ReadToken(text, ref position);
            if (token.Length == 0)
            {
                // Not a token character: skip it so hostile input cannot loop forever.
                position = Math.Max(position + 1, tokenStart + 1);
                continue;
            }

            SkipSpaces(text, ref position);
            if (position < text.Length && text[position] == '=' && scheme is not null)
            {
                position++;
                SkipSpaces(text, ref position);
                var value = position < text.Length && text[position] == '"' ? ReadQuoted(text, ref position) : ReadToken(text, ref position);
                parameters[token] = value;
                continue;
            }

            // A token not followed by '=' starts a new challenge (its scheme).
            if (scheme is not null)
            {
                output.Add(new AuthChallenge(scheme, parameters));
                parameters = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            }

            scheme = token;
        }

        if (scheme is not null)
        {
            output.Add(new AuthChallenge(scheme, parameters));
        }
    }

    private static string ReadToken(string text, ref int position)
    {
        var start = position;
        while (position < text.Length && IsTokenChar(text[position]))
        {
            position++;
        }

        return text[start..position];
    }

    private static string ReadQuoted(string text, ref int position)
    {
        var builder = new StringBuilder();
        position++; // opening quote
        while (position < text.Length)
        {
            var c = text[position++];
            if (c == '"')
            {
                break;
            }

            if (c == '\\' && position < text.Length)
            {
                c = text[position++];
            }

            builder.Append(c);
        }

        return builder.ToString();
    }

    private static void SkipWhitespaceAndCommas(string text, ref int position)
    {
        while (position < text.Length && (text[position] is ',' || char.IsWhiteSpace(text[position])))
        {
            position++;
        }
    }

    private static void SkipSpaces(string text, ref int position)
    {
        while (position < text.Length && text[position] is ' ' or '\t')
        {
            position++;
        }
    }

    // RFC 9110 tchar, plus '/' so that token68 values (Basic credentials) survive.
    private static bool IsTokenChar(char c) =>
        char.IsAsciiLetterOrDigit(c) || c is '!' or '#' or '$' or '%' or '&' or '\'' or '*' or '+' or '-' or '.' or '^' or '_' or '`' or '|' or '~' or '/' or ':';
}
