using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using P2PRegistry.Core.Placement;

namespace P2PRegistry.Core.Tests.Placement;

public class RendezvousRingTests
{
    private static readonly string[] ThreeNodes = ["http://10.0.0.1:7001", "http://10.0.0.2:7001", "http://10.0.0.3:7001"];

    [Fact]
    public void Weight_IsSha256OfIdZeroKey_FirstEightBytesBigEndian()
    {
        var ring = new RendezvousRing(ThreeNodes);
        var key = Encoding.UTF8.GetBytes("sha256:abc");
        var input = Encoding.UTF8.GetBytes(ThreeNodes[1]).Concat(new byte[] { 0 }).Concat(key).ToArray();
        var expected = BinaryPrimitives.ReadUInt64BigEndian(SHA256.HashData(input));
        Assert.Equal(expected, ring.Weight(1, key));
    }

    [Fact]
    public void Rank_IsAPermutation_OrderedByWeight()
    {
        var ring = new RendezvousRing(ThreeNodes);
        var key = Encoding.UTF8.GetBytes("blob");
        var rank = ring.Rank(key);
        Assert.Equal([0, 1, 2], rank.Order());
        Assert.True(ring.Weight(rank[0], key) >= ring.Weight(rank[1], key));
        Assert.True(ring.Weight(rank[1], key) >= ring.Weight(rank[2], key));
    }

    [Fact]
    public void Rank_DoesNotDependOnTheOrderNodesAreListedIn()
    {
        var forward = new RendezvousRing(ThreeNodes);
        var backward = new RendezvousRing(ThreeNodes.Reverse().ToArray());
        for (var i = 0; i < 200; i++)
        {
            var key = $"sha256:{i:x64}";
            Assert.Equal(
                forward.Rank(key).Select(n => forward.NodeIds[n]),
                backward.Rank(key).Select(n => backward.NodeIds[n]));
        }
    }

    [Fact]
    public void AddingANode_MovesOnlyKeysItNowOwns_AndSpreadsKeysEvenly()
    {
        var three = new RendezvousRing(ThreeNodes);
        var four = new RendezvousRing([.. ThreeNodes, "http://10.0.0.4:7001"]);
        const int Keys = 3000;
        var moved = 0;
        var perNode = new int[4];
        for (var i = 0; i < Keys; i++)
        {
            var key = $"sha256:{i:x64}";
            var before = three.NodeIds[three.Rank(key)[0]];
            var after = four.NodeIds[four.Rank(key)[0]];
            perNode[four.Rank(key)[0]]++;
            if (before != after)
            {
                moved++;
                Assert.Equal("http://10.0.0.4:7001", after); // a key only ever moves to the new node
            }
        }

        // About a quarter moves; each node owns about a quarter (loose bounds: this is a hash, not a promise).
        Assert.InRange(moved, Keys / 4 - Keys / 10, Keys / 4 + Keys / 10);
        Assert.All(perNode, count => Assert.InRange(count, Keys / 4 - Keys / 10, Keys / 4 + Keys / 10));
    }

    [Fact]
    public void Top_TakesTheBestNodes_OrAllWhenFewer()
    {
        var ring = new RendezvousRing(ThreeNodes);
        Assert.Equal(ring.Rank("k")[..2], ring.Top(Encoding.UTF8.GetBytes("k"), 2));
        Assert.Equal(3, ring.Top(Encoding.UTF8.GetBytes("k"), 5).Length);
        Assert.Empty(ring.Top(Encoding.UTF8.GetBytes("k"), 0));
    }

    [Fact]
    public void BadNodeLists_AreRefused()
    {
        Assert.Throws<ArgumentException>(() => new RendezvousRing([]));
        Assert.Throws<ArgumentException>(() => new RendezvousRing(["a", "a"]));
        Assert.Throws<ArgumentException>(() => new RendezvousRing(["a", ""]));
        Assert.Throws<ArgumentException>(() => new RendezvousRing([new string('x', RendezvousRing.MaxNodeIdBytes + 1)]));
    }

    [Theory]
    [InlineData("http://origin-0:5000", "http://origin-0:5000")]
    [InlineData("http://origin-0:5000/", "http://origin-0:5000")]
    [InlineData("  HTTP://Origin-0:5000//  ", "http://origin-0:5000")]
    [InlineData("http://origin-0:80/", "http://origin-0")]
    [InlineData("https://origin-0:443", "https://origin-0")]
    [InlineData("https://origin-0:80", "https://origin-0:80")]
    [InlineData("http://Origin-0:5000/Registry/", "http://origin-0:5000/Registry")]
    [InlineData("http://user@origin-0:5000/a?q=1#f", "http://origin-0:5000/a")]
    [InlineData("http://[FD00::1]:7001/", "http://[fd00::1]:7001")]
    [InlineData("http://10.0.0.1:7001", "http://10.0.0.1:7001")]
    public void NodeId_OneSpellingPerNode(string url, string expected) => Assert.Equal(expected, RendezvousRing.NodeId(url));

    [Theory]
    [InlineData("")]
    [InlineData("origin-0:5000")]
    [InlineData("/var/lib/origin")]
    [InlineData("not a url")]
    public void NodeId_NotAnAbsoluteUrl_IsRefused(string url)
    {
        Assert.Throws<ArgumentException>(() => RendezvousRing.NodeId(url));
        Assert.False(RendezvousRing.TryNodeId(url, out _));
    }

    [Fact]
    public void NodeId_ListsSpelledDifferently_RankEveryKeyAlike()
    {
        string[] other = ["HTTP://10.0.0.1:7001/", "http://10.0.0.2:7001//", " http://10.0.0.3:7001"];
        var one = new RendezvousRing([.. ThreeNodes.Select(RendezvousRing.NodeId)]);
        var two = new RendezvousRing([.. other.Select(RendezvousRing.NodeId)]);

        for (var i = 0; i < 50; i++)
        {
            Assert.Equal(one.Rank($"sha256:{i}"), two.Rank($"sha256:{i}"));
        }
    }
}
