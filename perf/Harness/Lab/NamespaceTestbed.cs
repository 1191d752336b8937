using System.Globalization;

namespace P2PRegistry.Harness.Lab;

/// <summary>
/// Hosts as network namespaces on one bridge in a hub namespace (LAB.md), addresses in 10.77.0.0/24, which exists
/// only inside these namespaces. Each link is shaped with tc tbf in both directions: the host's eth0 egress (its
/// upload) and the hub-side veth egress (its download).
/// With two zones, the hub has a bridge per zone (<c>br0</c> zone a with the seed host, <c>br1</c> zone b), client k
/// on zone a when k is odd, b when even, and the bridges are joined by one veth pair (<c>xa</c> on br0, <c>xb</c> on
/// br1) shaped at the inter-zone rate in both directions. What arrives in zone a from b is the rx count of
/// <c>xa</c>, and the other way round: every byte that crossed, counted once, whoever sent it.
/// Every host knows every other host's link-layer address from the start (permanent neighbour entries, see
/// <see cref="NeighbourBatch"/>): no ARP on the shaped links.
/// </summary>
internal sealed class NamespaceTestbed : ITestbed
{
    public const string Subnet = "10.77.0";
    private const string SeedVeth = "vseed";

    public const string ZoneA = "a";
    public const string ZoneB = "b";

    private readonly int _rateMbit;
    private readonly int? _interZoneMbit;
    private readonly List<string> _created = [];

    private NamespaceTestbed(RunId run, int clients, int rateMbit, int? interZoneMbit)
    {
        Run = run;
        _rateMbit = rateMbit;
        _interZoneMbit = interZoneMbit;
        Seed = new LabHost("seed", $"{Subnet}.1", run.SeedNamespace);
        Clients = [.. Enumerable.Range(1, clients).Select(k => new LabHost($"c{k}", ClientAddress(k), run.ClientNamespace(k)))];
    }

    public RunId Run { get; }

    public LabHost Seed { get; }

    public IReadOnlyList<LabHost> Clients { get; }

    public bool LinksShaped => true;

    public long? ProgramRateLimit => null;

    public string Description => _interZoneMbit is { } inter
        ? $"network namespaces {Run.RunPrefix}-*, two zones (a: seed host and odd clients, b: even clients), a bridge per zone in {Run.HubNamespace}, every host link tc tbf {_rateMbit} mbit both directions, the one link between the zones {inter} mbit both directions, permanent neighbour entries (no ARP)"
        : $"network namespaces {Run.RunPrefix}-*, bridge in {Run.HubNamespace}, every link tc tbf {_rateMbit} mbit both directions, permanent neighbour entries (no ARP)";

    public IReadOnlyList<string> Zones => _interZoneMbit is null ? [] : [ZoneA, ZoneB];

    public string? ZoneOf(LabHost host)
    {
        if (_interZoneMbit is null)
        {
            return null;
        }

        if (ReferenceEquals(host, Seed))
        {
            return ZoneA;
        }

        var index = Clients.ToList().IndexOf(host);
        return index < 0 ? throw new ArgumentException($"{host.Name} is not a host of this testbed.", nameof(host)) : ZoneOfClient(index + 1);
    }

    /// <summary>Client k (from 1) sits in zone a when k is odd, b when even: the first N clients split evenly for any N.</summary>
    public static string ZoneOfClient(int index) => index % 2 == 1 ? ZoneA : ZoneB;

    private static string Bridge(string zone) => zone == ZoneB ? "br1" : "br0";

    /// <summary>The hub-side end of the link between the zones on <paramref name="zone"/>'s bridge.</summary>
    public static string TrunkEnd(string zone) => "x" + zone;

    public static string ClientAddress(int index) => $"{Subnet}.{10 + index}";

    public static string ClientVeth(int index) => $"vc{index}";

    /// <param name="interZoneMbit">Null: one bridge for all. Set: two zones joined by a link of this rate.</param>
    public static async Task<NamespaceTestbed> CreateAsync(RunId run, int clients, int rateMbit, CancellationToken cancellationToken, int? interZoneMbit = null)
    {
        var testbed = new NamespaceTestbed(run, clients, rateMbit, interZoneMbit);
        try
        {
            await testbed.BuildAsync(cancellationToken).ConfigureAwait(false);
            return testbed;
        }
        catch
        {
            await testbed.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task BuildAsync(CancellationToken cancellationToken)
    {
        var hub = Run.HubNamespace;
        await AddNamespaceAsync(hub, cancellationToken).ConfigureAwait(false);
        await Ip(cancellationToken, "-n", hub, "link", "add", "br0", "type", "bridge").ConfigureAwait(false);
        await Ip(cancellationToken, "-n", hub, "link", "set", "br0", "up").ConfigureAwait(false);
        if (_interZoneMbit is { } inter)
        {
            await Ip(cancellationToken, "-n", hub, "link", "add", "br1", "type", "bridge").ConfigureAwait(false);
            await Ip(cancellationToken, "-n", hub, "link", "set", "br1", "up").ConfigureAwait(false);
            await Ip(cancellationToken, "-n", hub, "link", "add", TrunkEnd(ZoneA), "type", "veth", "peer", "name", TrunkEnd(ZoneB)).ConfigureAwait(false);
            foreach (var zone in new[] { ZoneA, ZoneB })
            {
                await Ip(cancellationToken, "-n", hub, "link", "set", TrunkEnd(zone), "master", Bridge(zone)).ConfigureAwait(false);
                await Ip(cancellationToken, "-n", hub, "link", "set", TrunkEnd(zone), "up").ConfigureAwait(false);
                await ShapeAsync(hub, TrunkEnd(zone), inter, cancellationToken).ConfigureAwait(false);
            }
        }

        await AddLinkAsync(Seed, SeedVeth, "br0", cancellationToken).ConfigureAwait(false);
        for (var k = 1; k <= Clients.Count; k++)
        {
            var bridge = _interZoneMbit is null ? "br0" : Bridge(ZoneOfClient(k));
            await AddLinkAsync(Clients[k - 1], ClientVeth(k), bridge, cancellationToken).ConfigureAwait(false);
        }

        await AddNeighboursAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The link-layer address of the host at <paramref name="address"/> (in <see cref="Subnet"/>): locally administered,
    /// its last byte the address's last byte, so every host's is known before it exists.
    /// </summary>
    public static string MacOf(string address) =>
        "02:77:00:00:00:" + byte.Parse(address[(address.LastIndexOf('.') + 1)..], CultureInfo.InvariantCulture).ToString("x2", CultureInfo.InvariantCulture);

    /// <summary>
    /// The <c>ip -batch</c> lines that give <paramref name="self"/> a permanent neighbour entry for every other host.
    /// The kernel's ARP table is one for all network namespaces, and its dynamic entries are capped at
    /// <c>net.ipv4.neigh.default.gc_thresh3</c> (1024 by default): 49 hosts that all talk to each other need 2,352,
    /// and past the cap a host cannot resolve the peers it has not reached yet ("neighbor table overflow" in the
    /// kernel log; its connects time out or fail with "No route to host") — at N = 48 the last hosts to dial got no
    /// peer but the origin. Permanent entries are not counted against the cap, and no ARP request or reply waits in a
    /// saturated tbf queue either.
    /// </summary>
    public static string NeighbourBatch(IEnumerable<LabHost> hosts, LabHost self)
    {
        var lines = new System.Text.StringBuilder();
        foreach (var host in hosts)
        {
            if (host.Address != self.Address)
            {
                lines.Append(CultureInfo.InvariantCulture, $"neigh replace {host.Address} lladdr {MacOf(host.Address)} dev eth0 nud permanent\n");
            }
        }

        return lines.ToString();
    }

    private async Task AddNeighboursAsync(CancellationToken cancellationToken)
    {
        List<LabHost> hosts = [Seed, .. Clients];
        var batch = Path.GetTempFileName();
        try
        {
            foreach (var host in hosts)
            {
                await File.WriteAllTextAsync(batch, NeighbourBatch(hosts, host), cancellationToken).ConfigureAwait(false);
                await Ip(cancellationToken, "-n", host.Namespace!, "-batch", batch).ConfigureAwait(false);
            }
        }
        finally
        {
            File.Delete(batch);
        }
    }

    private static Task<string> ShapeAsync(string ns, string device, int mbit, CancellationToken cancellationToken) =>
        Shell.CheckAsync("tc", ["-n", ns, "qdisc", "add", "dev", device, "root", "tbf", "rate", mbit.ToString(CultureInfo.InvariantCulture) + "mbit", "burst", "256kb", "latency", "100ms"], cancellationToken);

    private async Task AddNamespaceAsync(string name, CancellationToken cancellationToken)
    {
        await Ip(cancellationToken, "netns", "add", name).ConfigureAwait(false);
        _created.Add(name);
        await Ip(cancellationToken, "-n", name, "link", "set", "lo", "up").ConfigureAwait(false);
    }

    private async Task AddLinkAsync(LabHost host, string veth, string bridge, CancellationToken cancellationToken)
    {
        var ns = host.Namespace!;
        var hub = Run.HubNamespace;
        await AddNamespaceAsync(ns, cancellationToken).ConfigureAwait(false);
        // Both ends are created directly inside their namespaces, so names never meet in the root namespace.
        await Ip(cancellationToken, "link", "add", "eth0", "address", MacOf(host.Address), "netns", ns, "type", "veth", "peer", "name", veth, "netns", hub).ConfigureAwait(false);
        await Ip(cancellationToken, "-n", hub, "link", "set", veth, "master", bridge).ConfigureAwait(false);
        await Ip(cancellationToken, "-n", hub, "link", "set", veth, "up").ConfigureAwait(false);
        await Ip(cancellationToken, "-n", ns, "addr", "add", host.Address + "/24", "dev", "eth0").ConfigureAwait(false);
        await Ip(cancellationToken, "-n", ns, "link", "set", "eth0", "up").ConfigureAwait(false);
        await ShapeAsync(ns, "eth0", _rateMbit, cancellationToken).ConfigureAwait(false);
        await ShapeAsync(hub, veth, _rateMbit, cancellationToken).ConfigureAwait(false);
    }

    private static Task<string> Ip(CancellationToken cancellationToken, params string[] args) => Shell.CheckAsync("ip", args, cancellationToken);

    public int Port(LabHost host, int preferred) => preferred;

    /// <summary>
    /// What the seed host sent is what arrives at the hub-side end of its veth pair: that end's rx_bytes (the same
    /// count as the seed's eth0 tx_bytes). The hub-side tx_bytes would be what the seed received.
    /// </summary>
    public async Task<long?> ReadSeedEgressBytesAsync(CancellationToken cancellationToken)
    {
        var text = await Shell.CheckAsync("ip", ["netns", "exec", Run.HubNamespace, "cat", $"/sys/class/net/{SeedVeth}/statistics/rx_bytes"], cancellationToken).ConfigureAwait(false);
        return long.Parse(text.Trim(), CultureInfo.InvariantCulture);
    }

    public async Task<IReadOnlyDictionary<string, long>?> ReadZoneIngressBytesAsync(CancellationToken cancellationToken)
    {
        if (_interZoneMbit is null)
        {
            return null;
        }

        var counts = new Dictionary<string, long>();
        foreach (var zone in Zones)
        {
            var text = await Shell.CheckAsync("ip", ["netns", "exec", Run.HubNamespace, "cat", $"/sys/class/net/{TrunkEnd(zone)}/statistics/rx_bytes"], cancellationToken).ConfigureAwait(false);
            counts[zone] = long.Parse(text.Trim(), CultureInfo.InvariantCulture);
        }

        return counts;
    }

    public async ValueTask DisposeAsync()
    {
        // Clients first, hub last; anything still running inside is stopped by PID before its namespace goes.
        for (var i = _created.Count - 1; i >= 0; i--)
        {
            await DeleteNamespaceAsync(_created[i]).ConfigureAwait(false);
        }

        _created.Clear();
    }

    public static async Task DeleteNamespaceAsync(string name)
    {
        var pids = await Shell.RunAsync("ip", ["netns", "pids", name], CancellationToken.None).ConfigureAwait(false);
        foreach (var pid in pids.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            await Shell.RunAsync("kill", ["-KILL", pid], CancellationToken.None).ConfigureAwait(false);
        }

        await Shell.RunAsync("ip", ["netns", "del", name], CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>Synchronous variant for process exit, when awaiting is no longer possible: kill by PID, delete.</summary>
    public void DeleteAllNow()
    {
        foreach (var name in Enumerable.Reverse(_created).ToList())
        {
            foreach (var pid in Shell.RunNow("ip", ["netns", "pids", name]).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                Shell.RunNow("kill", ["-KILL", pid]);
            }

            Shell.RunNow("ip", ["netns", "del", name]);
        }

        _created.Clear();
    }

    /// <summary>Names of namespaces that this harness made (any run), from <c>ip netns list</c>.</summary>
    public static async Task<IReadOnlyList<string>> ListHarnessNamespacesAsync(CancellationToken cancellationToken)
    {
        var result = await Shell.RunAsync("ip", ["netns", "list"], cancellationToken).ConfigureAwait(false);
        return [.. result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' ', 2)[0].Trim())
            .Where(name => RunId.IdOf(name) is not null)];
    }
}
