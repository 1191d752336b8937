using System.Net;
using System.Net.Sockets;

namespace P2PRegistry.Integration.Tests.Harness;

public sealed class FileSystemAndPortTests
{
    [Fact]
    public void TempDirectory_Dispose_DeletesItWithItsContents()
    {
        string path;
        using (var temp = new TempDirectory())
        {
            path = temp.Path;
            File.WriteAllText(Path.Combine(temp.CreateSubdirectory("a", "b"), "f"), "x");
            Assert.True(Directory.Exists(path));
        }

        Assert.False(Directory.Exists(path));
    }

    [Fact]
    public void FreePort_Next_GivesDistinctBindableLoopbackPorts()
    {
        var ports = Enumerable.Range(0, 20).Select(_ => FreePort.Next()).ToList();

        Assert.Equal(ports.Count, ports.Distinct().Count());
        foreach (var port in ports.Take(3))
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
        }
    }

    [Fact]
    public void FreePort_Next_StaysOutsideTheKernelsEphemeralRange_SoNoBindToPortZeroCanTakeIt()
    {
        var (low, high) = FreePort.ChooseRange(File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range"));
        var ephemeral = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
        var ports = Enumerable.Range(0, 50).Select(_ => FreePort.Next()).ToList();

        Assert.All(ports, p => Assert.True(p < ephemeral[0] || p > ephemeral[1], $"{p} is inside {ephemeral[0]}-{ephemeral[1]}"));
        Assert.All(ports, p => Assert.InRange(p, low, high - 1));
    }

    [Theory]
    [InlineData("32768\t60999\n", 10_000, 32_768)]
    [InlineData(null, 10_000, 32_768)]
    [InlineData("garbage", 10_000, 32_768)]
    [InlineData("1024 40000", 40_001, 65_536)]
    public void FreePort_ChooseRange_BelowTheEphemeralRange_ElseAboveIt(string? text, int low, int high)
    {
        Assert.Equal((low, high), FreePort.ChooseRange(text));
    }

    [Fact]
    public void FreePort_ChooseRange_NoRoomOutsideTheEphemeralRange_SaysSo()
    {
        var error = Assert.Throws<InvalidOperationException>(() => FreePort.ChooseRange("1024 65000"));
        Assert.Contains("ip_local_port_range", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CommandLine_Format_QuotesOnlyWhatAShellWouldSplit()
    {
        Assert.Equal("skopeo copy 'a b' 'it'\\''s' docker://127.0.0.1:5000/x:y", CommandLine.Format("skopeo", ["copy", "a b", "it's", "docker://127.0.0.1:5000/x:y"]));
    }
}
