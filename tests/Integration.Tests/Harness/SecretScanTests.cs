namespace P2PRegistry.Integration.Tests.Harness;

/// <summary>The kit's secret scan finds a secret as is, URL-encoded and inside HTTP Basic, and skips the kit's own lines.</summary>
public sealed class SecretScanTests
{
    [Theory]
    [InlineData("connecting with password p@ss w0rd!")]
    [InlineData("GET /token?password=p%40ss%20w0rd%21")]
    [InlineData("Authorization: Basic Ym90OnBAc3MgdzByZCE=")]
    public void AssertNoneOf_SecretInAnyForm_Throws(string line)
    {
        var scan = new SecretScan();
        scan.Collect("origin")("an innocent line");
        scan.Collect("origin")(line);

        var leak = Assert.Throws<SecretLeakedException>(() => scan.AssertNoneOf(["p@ss w0rd!"], ["bot"]));
        Assert.DoesNotContain("p@ss w0rd!", leak.Message, StringComparison.Ordinal);
        Assert.Contains("origin", leak.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AssertNoneOf_NoSecret_Passes_HarnessLinesAreNotTheProcesssOutput()
    {
        var scan = new SecretScan();
        scan.Collect("origin")("[origin] [harness] started pid 1: dotnet origin.dll --Password=hunter2");
        scan.Collect("origin")("[harness] started pid 1: dotnet origin.dll --Password=hunter2");
        scan.Collect("origin")("credentials rejected for upstream x");

        scan.AssertNoneOf(["hunter2"], ["bot"]);
        Assert.Equal(1, scan.Count);
    }

    [Fact]
    public void AssertNoneOf_NothingCollected_Throws()
    {
        Assert.Throws<InvalidOperationException>(() => new SecretScan().AssertNoneOf(["x"]));
    }
}
