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
    public void CommandLine_Format_QuotesOnlyWhatAShellWouldSplit()
    {
        Assert.Equal("skopeo copy 'a b' 'it'\\''s' docker://127.0.0.1:5000/x:y", CommandLine.Format("skopeo", ["copy", "a b", "it's", "docker://127.0.0.1:5000/x:y"]));
    }
}
