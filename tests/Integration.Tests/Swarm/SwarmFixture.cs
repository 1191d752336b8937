using System.Globalization;
using System.Net;
using P2PRegistry.Core.Content;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Testing.Peers;

namespace P2PRegistry.Integration.Tests.Swarm;

/// <summary>An origin process and a tracker process whose origin it is, plus a temp folder; all stopped by PID at the end.</summary>
public sealed class SwarmFixture : IAsyncLifetime
{
    private readonly TestOutputSink _sink = new();

    public const long OriginEgressBytesPerSecond = 64L * 1024 * 1024;

    internal TempDirectory Directory { get; } = new("swarm");

    internal OriginProcess Origin { get; private set; } = null!;

    internal TrackerProcess Tracker { get; private set; } = null!;

    internal TestOutputSink Output => _sink;

    /// <summary>
    /// An address the tracker takes for an origin (<c>Tracker:OriginNetworks</c>): a test that needs a swarm for a blob
    /// the origin process does not hold vouches for its info hash from here, as another origin of the cluster would.
    /// </summary>
    internal static IPAddress VouchingOrigin { get; } = Loopback.Address(9);

    public async Task InitializeAsync()
    {
        Origin = await OriginProcess.StartAsync(new P2PRegistry.Testing.Registries.OriginOptions
        {
            OnOutputLine = _sink.WriteLine,
            // The origin's uplink is the one pipe the system exists to relieve; on loopback it would be as fast as
            // every peer together, so cap it (64 MiB/s) to the role it has in a cluster.
            ExtraArguments = [$"--Swarm:EgressBytesPerSecond={OriginEgressBytesPerSecond}"],
        });
        try
        {
            Tracker = await TrackerProcess.StartAsync(Origin.BaseAddress, _sink.WriteLine, $"--Tracker:OriginNetworks:0={VouchingOrigin}/32");
        }
        catch
        {
            await Origin.DisposeAsync();
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        try
        {
            await Tracker.DisposeAsync();
            await Origin.DisposeAsync();
        }
        finally
        {
            Directory.Dispose();
        }
    }

    /// <summary>Pushes a blob to the origin over the registry API.</summary>
    internal async Task PushAsync(SwarmBlob blob)
    {
        using var registry = new RegistryClient(Origin.BaseAddress);
        Assert.Equal(HttpStatusCode.Created, await registry.UploadFileAsync("swarm/blobs", blob.Path, blob.Digest.Value));
    }

    /// <summary>The .torrent from the tracker's HTTP face (this makes the tracker fetch the metainfo from the origin).</summary>
    internal async Task<(string Path, MetaInfo MetaInfo)> FetchTorrentAsync(Digest digest, string path)
    {
        using var http = new HttpClient();
        var torrent = await http.GetByteArrayAsync(Tracker.TorrentUrl(digest.Value));
        await File.WriteAllBytesAsync(path, torrent);
        using var metaInfoResponse = await http.GetAsync(new Uri(Origin.BaseAddress, "/p2p/v1/metainfo/" + digest.Value));
        metaInfoResponse.EnsureSuccessStatusCode();
        return (path, MetaInfo.Decode(await metaInfoResponse.Content.ReadAsByteArrayAsync()));
    }

    /// <summary>The origin's peer endpoint as it advertises it on the metainfo response.</summary>
    internal async Task<IPEndPoint> OriginPeerAsync(Digest digest)
    {
        using var http = new HttpClient();
        using var response = await http.GetAsync(new Uri(Origin.BaseAddress, "/p2p/v1/metainfo/" + digest.Value));
        response.EnsureSuccessStatusCode();
        return IPEndPoint.Parse(Assert.Single(response.Headers.GetValues("X-P2P-Origin-Peer")));
    }

    /// <summary>Bytes the origin's swarm engine sent to peers, from its Prometheus <c>/metrics</c>.</summary>
    internal static async Task<long> OriginBytesUploadedAsync(OriginProcess origin)
    {
        using var http = new HttpClient();
        var text = await http.GetStringAsync(new Uri(origin.BaseAddress, "/metrics"));
        long total = 0;
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith("p2pregistry_swarm_bytes_uploaded", StringComparison.Ordinal))
            {
                total += (long)double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
            }
        }

        return total;
    }
}
