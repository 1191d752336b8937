using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Hosting.Security;
using P2PRegistry.Swarm.Tests.Engine;
using P2PRegistry.Swarm.Transport;
using P2PRegistry.Testing.Blobs;
using P2PRegistry.Testing.Fakes;
using P2PRegistry.Testing.FileSystem;
using P2PRegistry.Testing.Peers;
using P2PRegistry.Testing.Security;

namespace P2PRegistry.Swarm.Tests.Transport;

/// <summary>TLS on the peer port (<c>Swarm:Tls</c>): engines with certificates from one CA trade pieces; anyone else is closed.</summary>
public sealed class PeerTlsTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Download_BothEnginesOnTls_CompletesWithDigestVerified()
    {
        using var authority = new TestCertificateAuthority();
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(3_000_000, 256 * 1024);
        var tracker = new FakeTracker();
        await using var seed = await TestNode.StartAsync(tracker, settings: Settings(authority, authority.Issue("seed", TestCertificateAuthority.AgentRole)));
        await using var leecher = await TestNode.StartAsync(tracker, settings: Settings(authority, authority.Issue("leecher", TestCertificateAuthority.AgentRole)));
        Assert.NotNull(seed.Engine.PeerTls);
        Assert.NotNull(leecher.Engine.PeerTls);
        seed.Engine.Seed(blob.MetaInfo, blob.WriteTo(dir.Path, "seed"));

        var download = await leecher.Engine.StartDownloadAsync(blob.MetaInfo, dir.Combine("leech"));
        await download.Completion.WaitAsync(Timeout);

        Assert.True(download.IsComplete);
        Assert.Equal(blob.Content, File.ReadAllBytes(dir.Combine("leech")));
        Assert.Equal(blob.MetaInfo.Length, download.Statistics.DownloadedByPeer[seed.Engine.PeerId]);
    }

    [Fact]
    public async Task PlaintextBitTorrentClient_AtATlsPeerPort_IsClosedWithoutAHandshake()
    {
        using var authority = new TestCertificateAuthority();
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(300_000, 64 * 1024);
        await using var seed = await TestNode.StartAsync(new FakeTracker(), settings: Settings(authority, authority.Issue("seed")));
        seed.Engine.Seed(blob.MetaInfo, blob.WriteTo(dir.Path, "seed"));

        await using var plain = await HostilePeer.ConnectAsync(new IPEndPoint(IPAddress.Loopback, seed.Port));
        using var bound = new CancellationTokenSource(Timeout);
        Assert.Null(await plain.HandshakeAsync(blob.MetaInfo.InfoHash, bound.Token));
    }

    [Fact]
    public async Task PeerWithACertificateFromAnotherCa_IsRefusedBothWays()
    {
        using var authority = new TestCertificateAuthority();
        using var stranger = new TestCertificateAuthority("Stranger CA");
        await using var seed = await TestNode.StartAsync(new FakeTracker(), settings: Settings(authority, authority.Issue("seed")));
        var foreign = PeerTlsOf(stranger, stranger.Issue("foreign"));
        var endPoint = new IPEndPoint(IPAddress.Loopback, seed.Port);

        await Assert.ThrowsAsync<PeerTlsException>(() => PeerDialer.ConnectAsync(endPoint, Timeout, foreign, CancellationToken.None));

        // Our own CA, but dialling a peer whose certificate is from the stranger: our side refuses it.
        await using var foreignSeed = await TestNode.StartAsync(new FakeTracker(), settings: Settings(stranger, stranger.Issue("foreign-seed")));
        var ours = PeerTlsOf(authority, authority.Issue("ours"));
        await Assert.ThrowsAsync<PeerTlsException>(() => PeerDialer.ConnectAsync(new IPEndPoint(IPAddress.Loopback, foreignSeed.Port), Timeout, ours, CancellationToken.None));

        // And a certificate from the right CA gets through.
        var connection = await PeerDialer.ConnectAsync(endPoint, Timeout, ours, CancellationToken.None);
        await connection.DisposeAsync();
    }

    private static PeerTls PeerTlsOf(TestCertificateAuthority authority, TestCertificate leaf)
    {
        var tls = new ComponentTls(new TlsOptions { CertificatePath = leaf.CertificatePath, KeyPath = leaf.KeyPath, CaPath = authority.CaPath }, "Swarm:Tls", TimeProvider.System, NullLogger.Instance);
        return new PeerTls(tls.PeerServerOptions, peer => tls.PeerClientOptions(peer.Address.ToString()));
    }

    private static Dictionary<string, string?> Settings(TestCertificateAuthority authority, TestCertificate leaf) => new()
    {
        ["Swarm:Tls:CertificatePath"] = leaf.CertificatePath,
        ["Swarm:Tls:KeyPath"] = leaf.KeyPath,
        ["Swarm:Tls:CaPath"] = authority.CaPath,
    };
}
