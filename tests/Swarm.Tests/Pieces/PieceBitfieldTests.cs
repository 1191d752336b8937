using P2PRegistry.Swarm.Pieces;

namespace P2PRegistry.Swarm.Tests.Pieces;

public sealed class PieceBitfieldTests
{
    [Fact]
    public void Set_UsesBep3BitOrder()
    {
        var bits = new PieceBitfield(10);
        bits.Set(0);
        bits.Set(9);
        Assert.Equal(new byte[] { 0x80, 0x40 }, bits.Bytes.ToArray());
        Assert.Equal(2, bits.Count);
        Assert.False(bits.Set(9));
    }

    [Fact]
    public void SetAll_LeavesSpareBitsClear()
    {
        var bits = new PieceBitfield(10);
        bits.SetAll();
        Assert.Equal(new byte[] { 0xFF, 0xC0 }, bits.Bytes.ToArray());
        Assert.True(bits.IsComplete);
    }

    [Theory]
    [InlineData(new byte[] { 0xFF })]
    [InlineData(new byte[] { 0xFF, 0xC0, 0x00 })]
    [InlineData(new byte[] { 0xFF, 0xE0 })]
    public void TryLoad_WrongLengthOrSpareBitsSet_Refused(byte[] bytes)
    {
        Assert.False(new PieceBitfield(10).TryLoad(bytes));
    }

    [Fact]
    public void TryLoad_Valid_CountsPieces()
    {
        var bits = new PieceBitfield(10);
        Assert.True(bits.TryLoad(new byte[] { 0xA0, 0x40 }));
        Assert.Equal(3, bits.Count);
        Assert.True(bits[0]);
        Assert.True(bits[2]);
        Assert.True(bits[9]);
        Assert.False(bits[1]);
        bits.Clear(0);
        Assert.Equal(2, bits.Count);
    }
}
