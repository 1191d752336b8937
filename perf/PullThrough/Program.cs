using System.Diagnostics;
using System.Globalization;
using P2PRegistry.Testing;
using P2PRegistry.Testing.FileSystem;
using P2PRegistry.Testing.Images;
using P2PRegistry.Testing.Networking;
using P2PRegistry.Testing.Processes;
using P2PRegistry.Testing.Registries;

// Cold pull of an image (busybox + a random layer of --size-mib) from a Docker-Hub-like upstream (docker-registry
// with token auth and our token issuer), in one run: skopeo copy straight from the upstream, then through one Agent
// (origin pulling through, cold), the same Agent again (warm), and a second Agent (cold, the blobs now in the swarm).
// Every server binds to 127.0.0.1 and is stopped by PID at the end. Build src/{Origin,Tracker,Agent} in Release first.
var sizeMiB = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 200;
const string Name = "upstream.perf:5000";
const string User = "alice";
const string Password = "s3cret";

using var work = new TempDirectory("pullthrough-perf");
await using var issuer = new TokenIssuer(work.Path, User, Password);
await using var upstream = await DockerRegistryProcess.StartAsync(new DockerRegistryOptions { AuthYaml = issuer.RegistryAuthYaml("perf-upstream") });
Console.WriteLine($"Building the image (busybox + {sizeMiB} MiB random) and pushing it to the upstream…");
var image = await OciImageBuilder.BuildAsync(work.Combine("layout"), "v1", randomMiB: sizeMiB, seed: 5);
var credentials = new SkopeoCredentials(User, Password);
await Skopeo.PushAsync(image.Reference, Skopeo.Docker(upstream.Host, "perf/app", "v1"), new SkopeoCopyOptions { PreserveDigests = true, DestinationCredentials = credentials });
var imageBytes = image.Layers.Sum(l => l.Size);

var rows = new List<(string What, double Seconds)>();
async Task<double> CopyAsync(string what, string source, SkopeoCopyOptions options)
{
    var target = work.Combine("copy-" + rows.Count);
    var clock = Stopwatch.StartNew();
    await Skopeo.CopyOrThrowAsync(source, Skopeo.Dir(target), options);
    var seconds = clock.Elapsed.TotalSeconds;
    foreach (var layer in image.Layers)
    {
        var copied = Path.Combine(target, layer.Digest.Split(':')[1]);
        if (!File.Exists(copied) || new FileInfo(copied).Length != layer.Size)
        {
            throw new InvalidOperationException($"{what}: layer {layer.Digest} missing or truncated in {target}");
        }
    }

    Directory.Delete(target, recursive: true);
    rows.Add((what, seconds));
    Console.WriteLine($"  {what}: {seconds:0.00} s");
    return seconds;
}

await CopyAsync("skopeo copy straight from the upstream (token auth)", Skopeo.Docker(upstream.Host, "perf/app", "v1"),
    new SkopeoCopyOptions { SourceCredentials = credentials, Timeout = TimeSpan.FromMinutes(10) });

await using var origin = await OriginProcess.StartAsync(new OriginOptions
{
    ExtraArguments =
    [
        $"--Origin:Upstreams:0:Name={Name}", $"--Origin:Upstreams:0:Url={upstream.BaseAddress}", "--Origin:Upstreams:0:AllowHttp=true",
        $"--Origin:Upstreams:0:Username={User}", $"--Origin:Upstreams:0:Password={Password}", "--Logging:LogLevel:Default=Warning",
    ],
});
var trackerHttp = FreePort.Next();
var trackerGrpc = FreePort.Next();
await using var tracker = await ManagedProcess.StartAsync(new ManagedProcessOptions("dotnet",
[
    RepositoryPaths.ProjectDll("Tracker", "P2PRegistry.Tracker"),
    $"--Tracker:GrpcUrl=http://127.0.0.1:{trackerGrpc}", $"--Tracker:HttpUrl=http://127.0.0.1:{trackerHttp}",
    $"--Tracker:OriginUrl={origin.BaseAddress.GetLeftPart(UriPartial.Authority)}", "--Logging:LogLevel:Default=Warning",
])
{
    Name = "tracker",
    Readiness = Readiness.HttpOk(new Uri($"http://127.0.0.1:{trackerHttp}/healthz")),
});

async Task<(ManagedProcess Process, int Port)> StartAgentAsync(string name)
{
    var port = FreePort.Next();
    var process = await ManagedProcess.StartAsync(new ManagedProcessOptions("dotnet",
    [
        RepositoryPaths.ProjectDll("Agent", "P2PRegistry.Agent"),
        $"--Agent:RegistryUrl=http://127.0.0.1:{port}", "--Agent:PeerPort=0",
        $"--Agent:TrackerUrl=http://127.0.0.1:{trackerGrpc}", $"--Agent:OriginUrl={origin.BaseAddress.GetLeftPart(UriPartial.Authority)}",
        $"--Agent:DataPath={work.Combine(name)}", $"--Agent:DefaultRegistry={Name}", "--Logging:LogLevel:Default=Warning",
    ])
    {
        Name = name,
        Readiness = Readiness.HttpOk(new Uri($"http://127.0.0.1:{port}/readyz")),
    });
    return (process, port);
}

// skopeo sends no ns: the Agent's DefaultRegistry names the upstream, as docker's registry-mirrors would.
var agentA = await StartAgentAsync("agent-a");
await using (agentA.Process)
{
    var agentB = await StartAgentAsync("agent-b");
    await using (agentB.Process)
    {
        var noCredentials = new SkopeoCopyOptions { Timeout = TimeSpan.FromMinutes(10) };
        await CopyAsync("skopeo copy through agent A, cold (origin pulls through)", Skopeo.Docker($"127.0.0.1:{agentA.Port}", "perf/app", "v1"), noCredentials);
        await CopyAsync("skopeo copy through agent A, warm (agent cache)", Skopeo.Docker($"127.0.0.1:{agentA.Port}", "perf/app", "v1"), noCredentials);
        await CopyAsync("skopeo copy through agent B, cold (swarm: origin + agent A)", Skopeo.Docker($"127.0.0.1:{agentB.Port}", "perf/app", "v1"), noCredentials);
    }
}

var blobGets = image.BlobDigests.Sum(d => upstream.CountRequests("GET", $"/v2/perf/app/blobs/{d}"));
var direct = rows[0].Seconds;
Console.WriteLine();
Console.WriteLine($"| image: {imageBytes / 1048576.0:0.0} MiB in {image.Layers.Count} layers | seconds | × direct |");
Console.WriteLine("|---|---|---|");
foreach (var (what, seconds) in rows)
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {what} | {seconds:0.00} | {seconds / direct:0.00} |"));
}

Console.WriteLine();
Console.WriteLine($"Upstream blob GETs: {blobGets} for {image.BlobDigests.Count} blobs (1 by the direct copy + 1 by the origin each expected).");
