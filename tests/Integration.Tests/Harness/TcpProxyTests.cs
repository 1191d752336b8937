namespace P2PRegistry.Integration.Tests.Harness;

/// <summary>Drives busybox (sh, httpd): a third-party program, so Integration.</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class TcpProxyTests
{
    [Fact]
    public async Task Proxy_ForwardsBothWays_AndRecordsWhatTheClientSent()
    {
        using var www = new TempDirectory();
        var payload = OciImageBuilder.RandomContent(1, seed: 9).Single();
        await File.WriteAllBytesAsync(Path.Combine(www.Path, "file"), payload);
        await using var server = await StartHttpdAsync(www.Path);
        await using var proxy = TcpProxy.Start(server.Port);
        using var http = new HttpClient();

        var body = await http.GetByteArrayAsync($"http://{proxy.Host}/file");

        Assert.Equal(payload, body);
        Assert.Contains(proxy.ClientTraffic(), t => t.StartsWith("GET /file HTTP/1.1", StringComparison.Ordinal));
        Assert.True(proxy.BytesToClients > payload.Length);
    }

    [Fact]
    public async Task CutAll_DuringAThrottledDownload_TheClientSeesABrokenTransfer()
    {
        using var www = new TempDirectory();
        await File.WriteAllBytesAsync(Path.Combine(www.Path, "file"), OciImageBuilder.RandomContent(8, seed: 10).SelectMany(b => b).ToArray());
        await using var server = await StartHttpdAsync(www.Path);
        await using var proxy = TcpProxy.Start(server.Port, bytesPerSecond: 2L << 20);
        using var http = new HttpClient();

        var download = http.GetByteArrayAsync($"http://{proxy.Host}/file");
        for (var i = 0; i < 200 && proxy.BytesToClients < 512 * 1024; i++)
        {
            await Task.Delay(25);
        }

        proxy.CutAll();

        await Assert.ThrowsAnyAsync<HttpRequestException>(() => download);
        Assert.InRange(proxy.BytesToClients, 512 * 1024, (8L << 20) - 1);
    }

    private sealed class Httpd(ManagedProcess process, int port) : IAsyncDisposable
    {
        public int Port => port;

        public ValueTask DisposeAsync() => process.DisposeAsync();
    }

    private static async Task<Httpd> StartHttpdAsync(string root)
    {
        var port = FreePort.Next();
        var process = await ManagedProcess.StartAsync(new ManagedProcessOptions("busybox", ["httpd", "-f", "-p", $"127.0.0.1:{port}", "-h", root])
        {
            Readiness = Readiness.TcpPort(port),
        });
        return new Httpd(process, port);
    }
}
