using System.Text;
using P2PRegistry.Core.Bencoding;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Harness.Lab;
using P2PRegistry.Harness.Systems;

namespace P2PRegistry.Harness.Tests;

public sealed class ParsingTests
{
    [Fact]
    public void ParseStat_CommWithSpacesAndParens()
    {
        var stat = "4242 (a b) c)) S 17 4242 4242 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 1 0 987654 1000 10 18446744073709551615";
        var parsed = ProcessCpu.ParseStat(stat);
        Assert.NotNull(parsed);
        Assert.Equal(3.25, parsed.Value.CpuSeconds, 9);
        Assert.Equal(987654UL, parsed.Value.StartTime);
        Assert.Equal(17, parsed.Value.ParentPid);
        Assert.Null(ProcessCpu.ParseStat("garbage"));
    }

    [Fact]
    public void ParseStat_OwnProcess_HasCpu()
    {
        Assert.NotNull(ProcessCpu.ReadSeconds(Environment.ProcessId));
        Assert.NotNull(ProcessCpu.ReadStartTime(Environment.ProcessId));
    }

    [Fact]
    public void ParseBashTimes_SumsChildrenLine()
    {
        Assert.Equal(61.56, ProcessCpu.ParseBashTimes("0m0.001s 0m0.002s\n1m1.250s 0m0.310s\n")!.Value, 9);
        Assert.Null(ProcessCpu.ParseBashTimes("0m0.001s 0m0.002s\n"));
        Assert.Null(ProcessCpu.ParseBashTimes("a\nb c\n"));
    }

    [Fact]
    public void ParsePidLines_SkipsMalformed()
    {
        Assert.Equal([(12, 34UL), (56, 78UL)], LeftoverCleaner.ParsePidLines("12 34\nbad\n56 78\n9\n"));
    }

    [Fact]
    public void ScrapeComplete_ReadsCompleteCount()
    {
        var hash = new byte[20];
        hash[3] = 0xff;
        var answer = Encoding.Latin1.GetBytes("d5:filesd20:" + Encoding.Latin1.GetString(hash) + "d8:completei2e10:downloadedi0e10:incompletei1eeee");
        Assert.Equal(2, Aria2cSystem.ScrapeComplete(answer));
        Assert.Equal(0, Aria2cSystem.ScrapeComplete("d5:filesdee"u8.ToArray()));
        Assert.Equal(0, Aria2cSystem.ScrapeComplete("<html>"u8.ToArray()));
    }

    [Fact]
    public void ReadInfoHash_IsSha1OfTheInfoDictionaryBytes()
    {
        const string info = "d6:lengthi5e4:name4:blob12:piece lengthi262144e6:pieces20:aaaaaaaaaaaaaaaaaaaae";
        var torrent = Encoding.ASCII.GetBytes("d8:announce9:http://x/4:info" + info + "e");
        var expected = InfoHash.Compute(Encoding.ASCII.GetBytes(info));
        Assert.Equal(expected, Aria2cSystem.ReadInfoHash(torrent));
        Assert.Throws<InvalidDataException>(() => Aria2cSystem.ReadInfoHash("d8:announce1:xe"u8.ToArray()));
        Assert.ThrowsAny<BencodeException>(() => Aria2cSystem.ReadInfoHash("x"u8.ToArray()));
    }
}
