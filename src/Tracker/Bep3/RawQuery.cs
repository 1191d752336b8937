using System.Diagnostics.CodeAnalysis;

namespace P2PRegistry.Tracker.Bep3;

/// <summary>
/// A query string decoded to bytes, not text. BEP 3 sends <c>info_hash</c> and <c>peer_id</c> as URL-encoded
/// raw bytes (<c>%12%34…</c>, with unreserved bytes such as <c>a</c> or <c>.</c> left literal); decoding them as
/// UTF-8, as ASP.NET's query collection does, turns most bytes into U+FFFD.
/// </summary>
internal sealed class RawQuery
{
    /// <summary>A tracker request is small; a longer query is refused before it is split.</summary>
    public const int MaxLength = 4096;

    private readonly Dictionary<string, byte[]> _values;

    private RawQuery(Dictionary<string, byte[]> values) => _values = values;

    /// <summary>
    /// Parses <c>name=value&amp;…</c> (a leading <c>?</c> is skipped). Percent escapes become bytes and <c>+</c> a
    /// space, as in application/x-www-form-urlencoded. The first occurrence of a name wins. Fails on a malformed
    /// escape or an over-long query.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<char> query, [NotNullWhen(true)] out RawQuery? result, [NotNullWhen(false)] out string? error)
    {
        result = null;
        if (query.Length > MaxLength)
        {
            error = $"query longer than {MaxLength} characters";
            return false;
        }

        if (query.StartsWith('?'))
        {
            query = query[1..];
        }

        var values = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        Span<byte> scratch = stackalloc byte[MaxLength];
        while (!query.IsEmpty)
        {
            var amp = query.IndexOf('&');
            var pair = amp < 0 ? query : query[..amp];
            query = amp < 0 ? default : query[(amp + 1)..];
            if (pair.IsEmpty)
            {
                continue;
            }

            var eq = pair.IndexOf('=');
            var rawName = eq < 0 ? pair : pair[..eq];
            var rawValue = eq < 0 ? default : pair[(eq + 1)..];
            if (!TryDecode(rawName, scratch, out var nameLength) ||
                !System.Text.Ascii.IsValid(scratch[..nameLength]))
            {
                error = "malformed parameter name";
                return false;
            }

            var name = System.Text.Encoding.ASCII.GetString(scratch[..nameLength]);
            if (!TryDecode(rawValue, scratch, out var valueLength))
            {
                error = $"malformed percent-encoding in '{name}'";
                return false;
            }

            values.TryAdd(name, scratch[..valueLength].ToArray());
        }

        result = new RawQuery(values);
        error = null;
        return true;
    }

    public bool Contains(string name) => _values.ContainsKey(name);

    public bool TryGetBytes(string name, [NotNullWhen(true)] out byte[]? value) => _values.TryGetValue(name, out value);

    /// <summary>The value as ASCII text (numbers, event names, addresses); null when absent or not ASCII.</summary>
    public string? GetAscii(string name) =>
        _values.TryGetValue(name, out var value) && System.Text.Ascii.IsValid(value) ? System.Text.Encoding.ASCII.GetString(value) : null;

    // Percent-decodes into destination (never longer than the source); '+' is a space.
    internal static bool TryDecode(ReadOnlySpan<char> source, Span<byte> destination, out int written)
    {
        written = 0;
        for (var i = 0; i < source.Length; i++)
        {
            var c = source[i];
            if (c == '%')
            {
                if (i + 2 >= source.Length)
                {
                    return false;
                }

                var hi = HexValue(source[i + 1]);
                var lo = HexValue(source[i + 2]);
                if ((hi | lo) < 0)
                {
                    return false;
                }

                destination[written++] = (byte)((hi << 4) | lo);
                i += 2;
            }
            else if (c == '+')
            {
                destination[written++] = (byte)' ';
            }
            else if (c <= 0x7F)
            {
                destination[written++] = (byte)c;
            }
            else
            {
                // A raw non-ASCII character cannot stand for one byte.
                return false;
            }
        }

        return true;
    }

    private static int HexValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };
}
