using Grpc.Core;
using P2PRegistry.Tracker.Admission;
using P2PRegistry.Tracker.Announcing;
using P2PRegistry.Tracker.Diagnostics;

namespace P2PRegistry.Tracker.Tests.Admission;

public sealed class AnnounceRefusalTests
{
    [Fact]
    public void RefusalTag_EveryRefusal_HasItsOwnFixedLabel()
    {
        var tags = Enum.GetValues<AnnounceRefusal>().Select(TrackerMetrics.RefusalTag).ToList();

        Assert.DoesNotContain("other", tags);
        Assert.Equal(tags.Count, tags.Distinct().Count());
        Assert.All(tags, tag => Assert.Matches("^[a-z_]+$", tag));
    }

    [Theory]
    // The refusal by name: the enum is internal to the tracker, and xunit's theory parameters must be public.
    [InlineData(nameof(AnnounceRefusal.UntrustedIp), StatusCode.PermissionDenied)]
    [InlineData(nameof(AnnounceRefusal.OriginNotAuthenticated), StatusCode.PermissionDenied)]
    [InlineData(nameof(AnnounceRefusal.PeerIdOwnedElsewhere), StatusCode.PermissionDenied)]
    [InlineData(nameof(AnnounceRefusal.UnknownInfoHash), StatusCode.NotFound)]
    [InlineData(nameof(AnnounceRefusal.UnroutableAddress), StatusCode.InvalidArgument)]
    [InlineData(nameof(AnnounceRefusal.InvalidLocality), StatusCode.InvalidArgument)]
    [InlineData(nameof(AnnounceRefusal.AddressQuota), StatusCode.ResourceExhausted)]
    [InlineData(nameof(AnnounceRefusal.SwarmAddressQuota), StatusCode.ResourceExhausted)]
    [InlineData(nameof(AnnounceRefusal.TooManyPeers), StatusCode.ResourceExhausted)]
    public void StatusCodeOf_EachRefusal_IsTheDocumentedGrpcStatus(string refusal, StatusCode expected) =>
        Assert.Equal(expected, TrackerGrpcService.StatusCodeOf(Enum.Parse<AnnounceRefusal>(refusal)));
}
