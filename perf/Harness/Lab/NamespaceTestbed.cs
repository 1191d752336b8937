using System.Globalization;

namespace P2PRegistry.Harness.Lab;

/// <summary>
/// Hosts as network namespaces on one bridge in a hub namespace (LAB.md), addresses in 10.77.0.0/24, which exists
/// only inside these namespaces. Each link is shaped with tc tbf in both directions: the host's eth0 egress (its
/// upload) and the hub-side veth egress (its download).
/// </summary>
internal sealed class NamespaceTestbed : ITestbed
{
    public const string Subnet = "10.77.0";
    private const string SeedVeth = "vseed";

    private readonly int _rateMbit;
    private readonly List<string> _created = [];

    private NamespaceTestbed(RunId run, int clients, int rateMbit)
    {
        Run = run;
        _rateMbit = rateMbit;
        Seed = new LabHost("seed", $"{Subnet}.1", run.SeedNamespace);
        Clients = [.. Enumerable.Range(1, clients).Select(k => new LabHost($"c{k}", ClientAddress(k), run.ClientNamespace(k)))];
    }

    public RunId Run { get; }

    public LabHost Seed { get; }

    public IReadOnlyList<LabHost> Clients { get; }

    public bool LinksShaped => true;

    public long? ProgramRateLimit => null;

    public string Description => $"network namespaces {Run.RunPrefix}-*, bridge in {Run.HubNamespace}, every link tc tbf {_rateMbit} mbit both directions";

    public static string ClientAddress(int index) => $"{Subnet}.{10 + index}";

    public static string ClientVeth(int index) => $"vc{index}";

    public static async Task<NamespaceTestbed> CreateAsync(RunId run, int clients, int rateMbit, CancellationToken cancellationToken)
    {
        var testbed = new NamespaceTestbed(run, clients, rateMbit);
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
        await AddLinkAsync(Seed, SeedVeth, cancellationToken).ConfigureAwait(false);
        for (var k = 1; k <= Clients.Count; k++)
        {
            await AddLinkAsync(Clients[k - 1], ClientVeth(k), cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task AddNamespaceAsync(string name, CancellationToken cancellationToken)
    {
        await Ip(cancellationToken, "netns", "add", name).ConfigureAwait(false);
        _created.Add(name);
        await Ip(cancellationToken, "-n", name, "link", "set", "lo", "up").ConfigureAwait(false);
    }

    private async Task AddLinkAsync(LabHost host, string veth, CancellationToken cancellationToken)
    {
        var ns = host.Namespace!;
        var hub = Run.HubNamespace;
        await AddNamespaceAsync(ns, cancellationToken).ConfigureAwait(false);
        // Both ends are created directly inside their namespaces, so names never meet in the root namespace.
        await Ip(cancellationToken, "link", "add", "eth0", "netns", ns, "type", "veth", "peer", "name", veth, "netns", hub).ConfigureAwait(false);
        await Ip(cancellationToken, "-n", hub, "link", "set", veth, "master", "br0").ConfigureAwait(false);
        await Ip(cancellationToken, "-n", hub, "link", "set", veth, "up").ConfigureAwait(false);
        await Ip(cancellationToken, "-n", ns, "addr", "add", host.Address + "/24", "dev", "eth0").ConfigureAwait(false);
        await Ip(cancellationToken, "-n", ns, "link", "set", "eth0", "up").ConfigureAwait(false);
        var rate = _rateMbit.ToString(CultureInfo.InvariantCulture) + "mbit";
        await Shell.CheckAsync("tc", ["-n", ns, "qdisc", "add", "dev", "eth0", "root", "tbf", "rate", rate, "burst", "256kb", "latency", "100ms"], cancellationToken).ConfigureAwait(false);
        await Shell.CheckAsync("tc", ["-n", hub, "qdisc", "add", "dev", veth, "root", "tbf", "rate", rate, "burst", "256kb", "latency", "100ms"], cancellationToken).ConfigureAwait(false);
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
