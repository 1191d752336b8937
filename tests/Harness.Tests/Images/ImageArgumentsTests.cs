using P2PRegistry.Harness.Cli;

namespace P2PRegistry.Harness.Tests.Images;

public sealed class ImageArgumentsTests
{
    [Fact]
    public void Parse_ImageWorkload_DefaultsToRegistryAndP2PRegistry_EightLayersFrom5To200Mib_OneWave()
    {
        var o = HarnessArguments.Parse(["--workload", "image"]);
        Assert.True(o.ImageWorkload);
        Assert.Equal(["registry", "p2pregistry"], o.Systems);
        Assert.Equal(8, o.Layers);
        Assert.Equal(5, o.LayerMinMib);
        Assert.Equal(200, o.LayerMaxMib);
        Assert.Equal([4], o.WaveSizes(4));
        Assert.Equal("blob", HarnessArguments.Parse([]).Workload);
    }

    [Fact]
    public void Parse_LayersAndWaves_BothSpellings()
    {
        var o = HarnessArguments.Parse(["--workload=image", "--agents", "8", "--layers=3", "--layer-mib", "2-64", "--wave-percent", "20", "--systems", "p2pregistry"]);
        Assert.Equal(3, o.Layers);
        Assert.Equal((2, 64), (o.LayerMinMib, o.LayerMaxMib));
        Assert.Equal([2, 2, 2, 2], o.WaveSizes(8));
        Assert.Equal(["p2pregistry"], o.Systems);

        var same = HarnessArguments.Parse(["--workload", "image", "--layer-mib=7", "--waves", "3", "--agents", "8"]);
        Assert.Equal((7, 7), (same.LayerMinMib, same.LayerMaxMib));
        Assert.Equal([3, 3, 2], same.WaveSizes(8));
    }

    [Theory]
    [InlineData("--layers and --layer-mib need", "--layers", "3")]
    [InlineData("need --workload image", "--waves", "2")]
    [InlineData("need --workload image", "--wave-percent", "20")]
    [InlineData("--workload must be one of blob, image", "--workload", "video")]
    [InlineData("not --loopback", "--workload", "image", "--loopback")]
    [InlineData("'aria2c' has no image workload", "--workload", "image", "--systems", "registry,aria2c")]
    [InlineData("give one", "--workload", "image", "--agents", "4", "--waves", "2", "--wave-percent", "50")]
    [InlineData("--waves 5 needs at least as many clients, got 4", "--workload", "image", "--agents", "4", "--waves", "5")]
    [InlineData("drop --tls", "--workload", "image", "--tls", "peer")]
    [InlineData("must not be larger than the largest", "--workload", "image", "--layer-mib", "10-5")]
    [InlineData("--layer-mib must be between 1 and 4096", "--workload", "image", "--layer-mib", "0-5")]
    [InlineData("--layers must be between 1 and 32", "--workload", "image", "--layers", "33")]
    [InlineData("--wave-percent must be between 1 and 100", "--workload", "image", "--wave-percent", "101")]
    public void Parse_BadImageArguments_NameTheOption(string expected, params string[] args)
    {
        var message = Assert.Throws<HarnessArgumentException>(() => HarnessArguments.Parse(args)).Message;
        Assert.Contains(expected.Replace("--layers and --layer-mib need", "--layers, --layer-mib, --waves and --wave-percent need", StringComparison.Ordinal), message);
    }

    [Fact]
    public void Parse_WavesAgainstScale_CheckedWithTheSmallestClientCount() =>
        Assert.Contains("got 2", Assert.Throws<HarnessArgumentException>(() => HarnessArguments.Parse(["--workload", "image", "--scale", "2,8", "--waves", "4"])).Message);

    [Fact]
    public void Usage_DescribesTheImageOptions()
    {
        foreach (var option in new[] { "--workload W", "--layers K", "--layer-mib MIN-MAX", "--waves K", "--wave-percent P" })
        {
            Assert.Contains(option, HarnessArguments.Usage);
        }
    }
}
