using System.Net;
using System.Net.Sockets;

namespace P2PRegistry.Harness.Lab;

/// <summary>
/// Every host is 127.0.0.1 and servers get distinct free ports: for machines without namespace rights. Links are
/// not shaped; rates come from the programs' own limits (curl --limit-rate, aria2c --max-overall-*-limit).
/// </summary>
internal sealed class LoopbackTestbed : ITestbed
{
    private readonly HashSet<int> _given = [];

    public LoopbackTestbed(RunId run, int clients, int rateMbit)
    {
        Run = run;
        Seed = new LabHost("seed", "127.0.0.1", null);
        Clients = [.. Enumerable.Range(1, clients).Select(k => new LabHost($"c{k}", "127.0.0.1", null))];
        ProgramRateLimit = rateMbit * 1_000_000L / 8;
    }

    public RunId Run { get; }

    public LabHost Seed { get; }

    public IReadOnlyList<LabHost> Clients { get; }

    public bool LinksShaped => false;

    public long? ProgramRateLimit { get; }

    public string Description => "loopback (127.0.0.1, distinct ports; rates limited by the programs themselves)";

    public int Port(LabHost host, int preferred)
    {
        lock (_given)
        {
            for (var attempt = 0; attempt < 100; attempt++)
            {
                using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
                var port = ((IPEndPoint)socket.LocalEndPoint!).Port;
                if (_given.Add(port))
                {
                    return port;
                }
            }
        }

        throw new InvalidOperationException("No free port on 127.0.0.1.");
    }

    public IReadOnlyList<string> Zones => [];

    public string? ZoneOf(LabHost host) => null;

    public Task<IReadOnlyDictionary<string, long>?> ReadZoneIngressBytesAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyDictionary<string, long>?>(null);

    public Task<long?> ReadSeedEgressBytesAsync(CancellationToken cancellationToken) => Task.FromResult<long?>(null);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
