using System.Buffers;
using P2PRegistry.Core.Pieces;
using P2PRegistry.Core.Tests.Wire;

namespace P2PRegistry.Core.Tests.Pieces;

public class BitfieldTests
{
    [Fact]
    public void SetGetCount_TrackEachPiece()
    {
        var bits = new Bitfield(130);
        Assert.True(bits.NoneSet);
        Assert.False(bits.AllSet);
        Assert.Equal(17, bits.WireLength);
        Assert.True(bits.Set(0));
        Assert.False(bits.Set(0));
        Assert.True(bits.Set(64));
        Assert.True(bits.Set(129));
        bits[5] = true;
        Assert.Equal(4, bits.SetCount);
        Assert.True(bits[0] && bits[5] && bits[64] && bits[129]);
        Assert.False(bits[1] || bits[63] || bits[128]);
        Assert.Equal(1, bits.FirstClear());
        Assert.Equal(65, bits.FirstClear(64));
        bits[5] = false;
        Assert.False(bits.Clear(5));
        Assert.Equal(3, bits.SetCount);
        Assert.Throws<ArgumentOutOfRangeException>(() => bits[130]);
        Assert.Throws<ArgumentOutOfRangeException>(() => bits.Set(-1));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(8)]
    [InlineData(63)]
    [InlineData(64)]
    [InlineData(65)]
    [InlineData(1000)]
    public void SetAll_SetsExactlyThePieces(int count)
    {
        var bits = new Bitfield(count);
        bits.SetAll();
        Assert.True(bits.AllSet);
        Assert.Equal(count, bits.SetCount);
        Assert.Equal(-1, bits.FirstClear());
        var wire = bits.ToArray();
        Assert.Equal((count + 7) / 8, wire.Length);
        if (count % 8 != 0)
        {
            Assert.Equal((byte)(0xFF << (8 - (count % 8))), wire[^1]); // spare bits stay zero
        }

        var back = Bitfield.FromWire(new ReadOnlySequence<byte>(wire), count);
        Assert.True(back.AllSet);
        bits.ClearAll();
        Assert.True(bits.NoneSet);
        Assert.All(bits.ToArray(), b => Assert.Equal(0, b));
    }

    [Fact]
    public void Wire_PieceZeroIsHighBitOfFirstByte()
    {
        var bits = new Bitfield(12);
        bits.Set(0);
        bits.Set(7);
        bits.Set(8);
        bits.Set(11);
        Assert.Equal(new byte[] { 0x81, 0x90 }, bits.ToArray());
    }

    [Fact]
    public void FirstClear_MatchesAPieceByPieceScan_FromEveryStart()
    {
        var random = new Random(11);
        for (var round = 0; round < 100; round++)
        {
            var count = random.Next(0, 200);
            var bits = new Bitfield(count);
            var density = random.NextDouble();
            for (var i = 0; i < count; i++)
            {
                if (random.NextDouble() < density)
                {
                    bits.Set(i);
                }
            }

            for (var start = -1; start <= count + 1; start++)
            {
                var expected = -1;
                for (var i = Math.Max(start, 0); i < count; i++)
                {
                    if (!bits[i])
                    {
                        expected = i;
                        break;
                    }
                }

                Assert.Equal(expected, bits.FirstClear(start));
            }
        }
    }

    [Fact]
    public void Words_PieceIIsBit63MinusIModulo64_OfWordIOver64()
    {
        var bits = new Bitfield(130);
        bits.Set(0);
        bits.Set(63);
        bits.Set(64);
        bits.Set(129);
        var words = bits.Words;
        Assert.Equal(3, words.Length);
        Assert.Equal((1UL << 63) | 1UL, words[0]);
        Assert.Equal(1UL << 63, words[1]);
        Assert.Equal(1UL << 62, words[2]); // piece 129 = word 2, bit 63 - 1; the spare bits stay clear
    }

    [Fact]
    public void Wire_RoundTripsRandomBitfields_AcrossSegments()
    {
        var random = new Random(3);
        for (var round = 0; round < 200; round++)
        {
            var count = random.Next(0, 300);
            var bits = new Bitfield(count);
            for (var i = 0; i < count; i++)
            {
                if (random.Next(2) == 0)
                {
                    bits.Set(i);
                }
            }

            var wire = bits.ToArray();
            var back = Bitfield.FromWire(Segments.Split(wire, random.Next(wire.Length + 1)), count);
            Assert.Equal(bits.SetCount, back.SetCount);
            Assert.Equal(wire, back.ToArray());
            for (var i = 0; i < count; i++)
            {
                Assert.Equal(bits[i], back[i]);
            }
        }
    }

    [Theory]
    [InlineData(9, "FF80", true)]
    [InlineData(9, "FFC0", false)] // bit for piece 9 does not exist
    [InlineData(9, "FF81", false)]
    [InlineData(16, "FFFF", true)]
    [InlineData(9, "FF", false)] // too short
    [InlineData(9, "FF8000", false)] // too long
    [InlineData(0, "", true)]
    [InlineData(0, "00", false)]
    public void TryReadFrom_ValidatesLengthAndSpareBits(int count, string hex, bool valid)
    {
        var bits = new Bitfield(count);
        if (count > 0)
        {
            bits.Set(0);
        }

        var ok = bits.TryReadFrom(Convert.FromHexString(hex), out var error);
        Assert.Equal(valid, ok);
        Assert.Equal(valid, error is null);
        if (!valid)
        {
            Assert.Equal(count > 0 ? 1 : 0, bits.SetCount); // unchanged
            Assert.Throws<FormatException>(() => Bitfield.FromWire(new ReadOnlySequence<byte>(Convert.FromHexString(hex)), count));
        }
    }
}
