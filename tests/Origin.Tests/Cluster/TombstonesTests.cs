using P2PRegistry.Origin.Cluster;

namespace P2PRegistry.Origin.Tests.Cluster;

public sealed class TombstonesTests
{
    private const string Digest = "sha256:0000000000000000000000000000000000000000000000000000000000000001";
    private static readonly DateTimeOffset T0 = new(2026, 12, 7, 5, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Decide_NothingDeleted_StoresManifestAndSetsTag()
    {
        var decision = new Tombstones(null).Decide("app", Digest, "v1");

        Assert.Equal(new OfferDecision(true, true, false, false), decision);
        Assert.False(decision.Refused);
    }

    [Fact]
    public void Decide_ManifestDeleted_RefusesManifestAndTag()
    {
        var tombstones = new Tombstones(null);
        tombstones.Add("app", Digest, T0);

        var decision = tombstones.Decide("app", Digest, "v1");

        Assert.Equal(new OfferDecision(false, false, true, false), decision);
        Assert.True(decision.Refused);
    }

    [Fact]
    public void Decide_OnlyTagDeleted_StoresManifestButNotTheTag()
    {
        var tombstones = new Tombstones(null);
        tombstones.Add("app", "v1", T0);

        Assert.Equal(new OfferDecision(true, false, false, true), tombstones.Decide("app", Digest, "v1"));
        Assert.Equal(new OfferDecision(true, true, false, false), tombstones.Decide("app", Digest, "v2"));
        Assert.Equal(new OfferDecision(true, true, false, false), tombstones.Decide("other", Digest, "v1"));
    }

    [Fact]
    public void Clear_AfterARepush_TheOfferIsAcceptedAgain()
    {
        var tombstones = new Tombstones(null);
        tombstones.Add("app", Digest, T0);

        Assert.True(tombstones.Clear("app", Digest));
        Assert.False(tombstones.Clear("app", Digest));
        Assert.False(tombstones.Decide("app", Digest, null).Refused);
    }

    [Fact]
    public void Expire_RemovesOnlyThoseOlderThanTheRetention()
    {
        var tombstones = new Tombstones(null);
        tombstones.Add("app", "old", T0);
        tombstones.Add("app", "new", T0.AddDays(6));

        Assert.Equal(1, tombstones.Expire(T0.AddDays(7).AddSeconds(1), TimeSpan.FromDays(7)));
        Assert.False(tombstones.IsDeleted("app", "old"));
        Assert.True(tombstones.IsDeleted("app", "new"));
    }

    [Fact]
    public void Persisted_ARestartedMemberStillKnowsItsDeletes_AndATornFileLosesOnlyTheTombstones()
    {
        var directory = Directory.CreateTempSubdirectory("tombstones-");
        try
        {
            var path = Path.Combine(directory.FullName, "cluster", "tombstones.json");
            var first = new Tombstones(path);
            first.Add("app", Digest, T0);
            first.Add("app", "v1", T0.AddMinutes(1));

            var reloaded = new Tombstones(path);
            Assert.Equal(2, reloaded.Count);
            Assert.True(reloaded.IsDeleted("app", Digest));
            Assert.Equal(["app:" + Digest, "app:v1"], reloaded.Snapshot().Select(t => $"{t.Repository}:{t.Reference}"));
            Assert.True(reloaded.Snapshot()[0].IsManifest);
            Assert.False(reloaded.Snapshot()[1].IsManifest);

            File.WriteAllText(path, "{ torn");
            Assert.Equal(0, new Tombstones(path).Count);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public void Add_PastTheBound_TheOldestGo()
    {
        var tombstones = new Tombstones(null);
        for (var i = 0; i <= Tombstones.MaxCount; i++)
        {
            tombstones.Add("app", $"t{i}", T0.AddSeconds(i));
        }

        Assert.Equal(Tombstones.MaxCount, tombstones.Count);
        Assert.False(tombstones.IsDeleted("app", "t0"));
        Assert.True(tombstones.IsDeleted("app", $"t{Tombstones.MaxCount}"));
    }
}
