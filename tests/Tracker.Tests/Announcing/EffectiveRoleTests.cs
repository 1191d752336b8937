using P2PRegistry.Testing.Security;
using P2PRegistry.Tracker.Announcing;
using P2PRegistry.Tracker.Peers;

namespace P2PRegistry.Tracker.Tests.Announcing;

/// <summary>Under mutual TLS the origin role comes from the client certificate, never from the announce.</summary>
public sealed class EffectiveRoleTests
{
    [Fact]
    public void MutualTls_OriginClaimedWithAnAgentCertificate_IsAnAgent()
    {
        using var authority = new TestCertificateAuthority();
        var agent = authority.Issue("agent", TestCertificateAuthority.AgentRole);
        Assert.Equal(PeerRole.Agent, TrackerGrpcService.EffectiveRole(PeerRole.Origin, agent.Certificate, mutualTls: true));
        Assert.Equal(PeerRole.Agent, TrackerGrpcService.EffectiveRole(PeerRole.Origin, authority.Issue("plain").Certificate, mutualTls: true));
        Assert.Equal(PeerRole.Agent, TrackerGrpcService.EffectiveRole(PeerRole.Origin, null, mutualTls: true));
    }

    [Fact]
    public void MutualTls_OriginClaimedWithAnOriginCertificate_IsAnOrigin()
    {
        using var authority = new TestCertificateAuthority();
        var origin = authority.Issue("origin", TestCertificateAuthority.OriginRole);
        Assert.Equal(PeerRole.Origin, TrackerGrpcService.EffectiveRole(PeerRole.Origin, origin.Certificate, mutualTls: true));
        // An origin's certificate does not make an agent's announce an origin's.
        Assert.Equal(PeerRole.Agent, TrackerGrpcService.EffectiveRole(PeerRole.Agent, origin.Certificate, mutualTls: true));
    }

    [Fact]
    public void WithoutMutualTls_TheAnnouncedRoleStands()
    {
        Assert.Equal(PeerRole.Origin, TrackerGrpcService.EffectiveRole(PeerRole.Origin, null, mutualTls: false));
        Assert.Equal(PeerRole.Agent, TrackerGrpcService.EffectiveRole(PeerRole.Agent, null, mutualTls: false));
    }
}
