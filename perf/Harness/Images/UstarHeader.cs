using System.Globalization;
using System.Text;

namespace P2PRegistry.Harness.Images;

/// <summary>
/// The 512-byte POSIX ustar header of one regular file (mode 0644, owner 0:0): written by hand so a layer's
/// content can stream from the random generator through tar and gzip in one pass, without a file to tar first.
/// </summary>
internal static class UstarHeader
{
    public const int BlockSize = 512;

    /// <summary>Largest size the 11 octal digits of the size field hold (8 GiB − 1).</summary>
    public const long MaxSize = (1L << 33) - 1;

    public static byte[] RegularFile(string name, long size, DateTimeOffset modified)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(size, MaxSize);
        var nameBytes = Encoding.ASCII.GetBytes(name);
        if (nameBytes.Length is 0 or > 100 || name.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException($"A ustar name is 1 to 100 ASCII bytes: '{name}'.", nameof(name));
        }

        var header = new byte[BlockSize];
        nameBytes.CopyTo(header, 0);
        Octal(header, 100, 8, 420); // 0644
        Octal(header, 108, 8, 0);
        Octal(header, 116, 8, 0);
        Octal(header, 124, 12, size);
        Octal(header, 136, 12, modified.ToUnixTimeSeconds());
        header[156] = (byte)'0';
        Encoding.ASCII.GetBytes("ustar\0").CopyTo(header, 257);
        Encoding.ASCII.GetBytes("00").CopyTo(header, 263);
        Encoding.ASCII.GetBytes("root").CopyTo(header, 265);
        Encoding.ASCII.GetBytes("root").CopyTo(header, 297);

        // The checksum is the byte sum of the header with its own field read as eight spaces.
        "        "u8.CopyTo(header.AsSpan(148, 8));
        var sum = header.Sum(b => (long)b);
        Octal(header, 148, 7, sum);
        header[155] = (byte)' ';
        return header;
    }

    /// <summary>Bytes of zero padding after <paramref name="size"/> bytes of content, up to the next block.</summary>
    public static int Padding(long size) => (int)((BlockSize - (size % BlockSize)) % BlockSize);

    private static void Octal(byte[] header, int offset, int width, long value)
    {
        // width − 1 octal digits, zero-padded, then NUL.
        var text = Convert.ToString(value, 8).PadLeft(width - 1, '0');
        if (text.Length > width - 1)
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, string.Create(CultureInfo.InvariantCulture, $"Does not fit {width - 1} octal digits."));
        }

        Encoding.ASCII.GetBytes(text).CopyTo(header, offset);
        header[offset + width - 1] = 0;
    }
}
