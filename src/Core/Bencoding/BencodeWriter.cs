using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace P2PRegistry.Core.Bencoding;

/// <summary>
/// Writes bencode (BEP 3) straight into a buffer writer. The caller writes dictionary keys in sorted
/// (raw byte) order, as BEP 3 requires; the writer does not reorder.
/// </summary>
/// <remarks>
/// BEP 3: integers <c>i&lt;n&gt;e</c>, strings <c>&lt;len&gt;:&lt;bytes&gt;</c>, lists <c>l…e</c>, dictionaries <c>d…e</c>.
/// </remarks>
public readonly ref struct BencodeWriter
{
    private readonly IBufferWriter<byte> _output;

    public BencodeWriter(IBufferWriter<byte> output) => _output = output;

    public void WriteInteger(long value)
    {
        var span = _output.GetSpan(22);
        span[0] = (byte)'i';
        Utf8Formatter.TryFormat(value, span[1..], out var written);
        span[1 + written] = (byte)'e';
        _output.Advance(written + 2);
    }

    public void WriteString(ReadOnlySpan<byte> value)
    {
        var span = _output.GetSpan(21);
        Utf8Formatter.TryFormat(value.Length, span, out var written);
        span[written] = (byte)':';
        _output.Advance(written + 1);
        _output.Write(value);
    }

    public void WriteString(string value)
    {
        var byteCount = Encoding.UTF8.GetByteCount(value);
        var span = _output.GetSpan(21);
        Utf8Formatter.TryFormat(byteCount, span, out var written);
        span[written] = (byte)':';
        _output.Advance(written + 1);
        var dest = _output.GetSpan(byteCount);
        Encoding.UTF8.GetBytes(value, dest);
        _output.Advance(byteCount);
    }

    public void WriteStartDictionary() => WriteByte((byte)'d');

    public void WriteStartList() => WriteByte((byte)'l');

    public void WriteEnd() => WriteByte((byte)'e');

    /// <summary>Copies an already-encoded value (e.g. a stored info dictionary) verbatim.</summary>
    public void WriteRaw(ReadOnlySpan<byte> encoded) => _output.Write(encoded);

    private void WriteByte(byte value)
    {
        var span = _output.GetSpan(1);
        span[0] = value;
        _output.Advance(1);
    }
}
