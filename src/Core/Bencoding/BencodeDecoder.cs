using System.Text;

namespace P2PRegistry.Core.Bencoding;

/// <summary>
/// Strict bencode decoder for small documents (metainfo, tracker responses). Rejects what BEP 3 forbids
/// (leading zeros, <c>i-0e</c>, unsorted or duplicate dictionary keys) and bounds nesting depth and element
/// count, so hostile input costs at most its own length.
/// </summary>
public static class BencodeDecoder
{
    public const int DefaultMaxDepth = 32;
    public const int DefaultMaxElements = 1 << 20;

    /// <summary>Decodes exactly one value spanning the whole input.</summary>
    public static BencodeValue Decode(ReadOnlyMemory<byte> input, int maxDepth = DefaultMaxDepth, int maxElements = DefaultMaxElements)
    {
        var state = new State(input, maxDepth, maxElements);
        var value = state.ReadValue(0);
        if (state.Position != input.Length)
        {
            throw new BencodeException("Trailing bytes after the value", state.Position);
        }

        return value;
    }

    private sealed class State(ReadOnlyMemory<byte> input, int maxDepth, int maxElements)
    {
        private int _elements;

        public int Position { get; private set; }

        public BencodeValue ReadValue(int depth)
        {
            if (depth > maxDepth)
            {
                throw new BencodeException($"Nesting deeper than {maxDepth}", Position);
            }

            if (++_elements > maxElements)
            {
                throw new BencodeException($"More than {maxElements} elements", Position);
            }

            var span = input.Span;
            if (Position >= span.Length)
            {
                throw new BencodeException("Unexpected end of input", Position);
            }

            var start = Position;
            switch (span[Position])
            {
                case (byte)'i':
                    {
                        Position++;
                        var value = ReadInteger((byte)'e');
                        return new BencodeInteger(value, input[start..Position]);
                    }

                case (byte)'l':
                    {
                        Position++;
                        var items = new List<BencodeValue>();
                        while (true)
                        {
                            if (Position >= span.Length)
                            {
                                throw new BencodeException("Unterminated list", Position);
                            }

                            if (span[Position] == (byte)'e')
                            {
                                Position++;
                                return new BencodeList(items, input[start..Position]);
                            }

                            items.Add(ReadValue(depth + 1));
                        }
                    }

                case (byte)'d':
                    {
                        Position++;
                        var entries = new Dictionary<string, BencodeValue>(StringComparer.Ordinal);
                        ReadOnlyMemory<byte> previousKey = default;
                        var first = true;
                        while (true)
                        {
                            if (Position >= span.Length)
                            {
                                throw new BencodeException("Unterminated dictionary", Position);
                            }

                            if (span[Position] == (byte)'e')
                            {
                                Position++;
                                return new BencodeDictionary(entries, input[start..Position]);
                            }

                            var keyPosition = Position;
                            if (ReadValue(depth + 1) is not BencodeString key)
                            {
                                throw new BencodeException("Dictionary key is not a string", keyPosition);
                            }

                            if (!first && key.Value.Span.SequenceCompareTo(previousKey.Span) <= 0)
                            {
                                throw new BencodeException("Dictionary keys are not sorted or repeat", keyPosition);
                            }

                            first = false;
                            previousKey = key.Value;
                            entries.Add(Encoding.Latin1.GetString(key.Value.Span), ReadValue(depth + 1));
                        }
                    }

                case >= (byte)'0' and <= (byte)'9':
                    {
                        var length = ReadInteger((byte)':');
                        if (length < 0 || length > span.Length - Position)
                        {
                            throw new BencodeException($"String length {length} runs past the end of input", start);
                        }

                        var value = input.Slice(Position, (int)length);
                        Position += (int)length;
                        return new BencodeString(value, input[start..Position]);
                    }

                default:
                    throw new BencodeException($"Unexpected byte 0x{span[Position]:x2}", Position);
            }
        }

        private long ReadInteger(byte terminator)
        {
            var span = input.Span;
            var start = Position;
            var negative = false;
            if (Position < span.Length && span[Position] == (byte)'-')
            {
                if (terminator != (byte)'e')
                {
                    throw new BencodeException("Negative string length", Position);
                }

                negative = true;
                Position++;
            }

            // The magnitude is accumulated unsigned so every Int64 (what the writer can produce) round-trips,
            // and overflow is refused before it can wrap.
            var digitsStart = Position;
            var limit = negative ? (ulong)long.MaxValue + 1 : long.MaxValue;
            ulong magnitude = 0;
            while (Position < span.Length && span[Position] is >= (byte)'0' and <= (byte)'9')
            {
                var digit = (uint)(span[Position] - '0');
                if (magnitude > (limit - digit) / 10)
                {
                    throw new BencodeException("Integer too large", start);
                }

                magnitude = (magnitude * 10) + digit;
                Position++;
            }

            var digits = Position - digitsStart;
            if (digits == 0)
            {
                throw new BencodeException("Expected digits", Position);
            }

            if (Position >= span.Length || span[Position] != terminator)
            {
                throw new BencodeException($"Expected '{(char)terminator}'", Position);
            }

            if (digits > 1 && span[digitsStart] == (byte)'0')
            {
                throw new BencodeException("Leading zero in integer", start);
            }

            if (negative && magnitude == 0)
            {
                throw new BencodeException("Negative zero", start);
            }

            Position++;
            return negative ? (long)(0 - magnitude) : (long)magnitude;
        }
    }
}
