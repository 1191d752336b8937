using P2PRegistry.Swarm.Pieces;

namespace P2PRegistry.Swarm.Tests.Pieces;

public sealed class ReadAheadTests
{
    [Theory]
    [InlineData(true, true, true)]
    [InlineData(true, false, false)]
    [InlineData(false, true, false)]
    public void IsSupported_OnlyLinuxIn64BitProcesses(bool linux, bool is64BitProcess, bool expected)
    {
        // posix_fadvise is declared with 64-bit offsets: in a 32-bit process off_t is 32 bits and the call would be wrong.
        Assert.Equal(expected, ReadAhead.IsSupported(linux, is64BitProcess));
    }
}
