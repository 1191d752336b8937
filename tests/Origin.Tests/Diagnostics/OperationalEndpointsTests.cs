using System.Net;
using System.Text.RegularExpressions;

namespace P2PRegistry.Origin.Tests.Diagnostics;

public sealed class OperationalEndpointsTests
{
    [Fact]
    public async Task HealthReadyAndMetrics_Answer_MetricsCountUploads()
    {
        await using var origin = await OriginServer.StartAsync();
        using (var live = await origin.Client.GetAsync("/healthz"))
        {
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        }

        using (var ready = await origin.Client.GetAsync("/readyz"))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }

        await origin.PushBlobAsync("ops/metrics", OriginServer.RandomBytes(1000, 51));
        var metrics = await origin.Client.GetStringAsync("/metrics");
        var completed = Regex.Match(metrics, @"^p2pregistry_origin_uploads_completed\S* (\d+)", RegexOptions.Multiline);
        Assert.True(completed.Success, metrics);
        Assert.True(long.Parse(completed.Groups[1].Value) >= 1);
        Assert.Contains("p2pregistry_origin_blob_bytes_received", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Readyz_StorageNotWritable_503()
    {
        await using var origin = await OriginServer.StartAsync();
        var uploads = Path.Combine(origin.StoragePath, "uploads");
        Directory.Delete(uploads, recursive: true);
        await File.WriteAllTextAsync(uploads, "a file where the uploads folder was");
        try
        {
            using var ready = await origin.Client.GetAsync("/readyz");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            Assert.Contains("not writable", await ready.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            using var live = await origin.Client.GetAsync("/healthz");
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        }
        finally
        {
            File.Delete(uploads);
        }
    }
}
