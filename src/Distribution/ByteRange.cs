using System.Globalization;

namespace P2PRegistry.Distribution;

public enum ByteRangeStatus
{
    /// <summary>No usable Range header (absent, another unit, malformed, or several ranges): send the whole blob, 200.</summary>
    Whole,
    /// <summary>One satisfiable range: 206 with <see cref="ByteRange.Start"/>..<see cref="ByteRange.End"/>.</summary>
    Partial,
    /// <summary>416 with <c>Content-Range: bytes */length</c>.</summary>
    Unsatisfiable,
}

/// <summary>
/// A single byte range of a blob, resolved against its length (RFC 9110 §14.1.2, as the OCI conformance
/// suite checks it): <c>bytes=500-1499</c>, <c>bytes=500-</c>, <c>bytes=-500</c>; a last position past the
/// end is clamped; a first position at or past the end, a last position before the first, and
/// <c>bytes=-0</c> are unsatisfiable (416). Several ranges are answered with the whole blob (allowed by
/// RFC 9110, and no registry client asks for multipart).
/// </summary>
public readonly record struct ByteRange(long Start, long End)
{
    public long Length => End - Start + 1;

    public static ByteRangeStatus TryParse(string? header, long length, out ByteRange range)
    {
        range = default;
        if (string.IsNullOrEmpty(header))
        {
            return ByteRangeStatus.Whole;
        }

        var spec = header.AsSpan().Trim();
        if (!spec.StartsWith("bytes=", StringComparison.OrdinalIgnoreCase))
        {
            return ByteRangeStatus.Whole;
        }

        spec = spec["bytes=".Length..].Trim();
        if (spec.Contains(','))
        {
            return ByteRangeStatus.Whole;
        }

        var dash = spec.IndexOf('-');
        if (dash < 0)
        {
            return ByteRangeStatus.Whole;
        }

        var firstText = spec[..dash].Trim();
        var lastText = spec[(dash + 1)..].Trim();

        if (firstText.IsEmpty)
        {
            // Suffix range: the last N bytes.
            if (!TryParseDigits(lastText, out var suffix))
            {
                return ByteRangeStatus.Whole;
            }

            if (suffix == 0 || length == 0)
            {
                return ByteRangeStatus.Unsatisfiable;
            }

            range = new ByteRange(Math.Max(0, length - suffix), length - 1);
            return ByteRangeStatus.Partial;
        }

        if (!TryParseDigits(firstText, out var first))
        {
            return ByteRangeStatus.Whole;
        }

        long last;
        if (lastText.IsEmpty)
        {
            last = long.MaxValue;
        }
        else if (!TryParseDigits(lastText, out last))
        {
            return ByteRangeStatus.Whole;
        }

        if (last < first || first >= length)
        {
            return ByteRangeStatus.Unsatisfiable;
        }

        range = new ByteRange(first, Math.Min(last, length - 1));
        return ByteRangeStatus.Partial;
    }

    // Digits only: no sign, no spaces, no thousands separators; an overflow is simply not a range.
    private static bool TryParseDigits(ReadOnlySpan<char> text, out long value) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
}
