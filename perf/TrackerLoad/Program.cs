// Tracker capacity: drives a running Tracker with gRPC announces from many callers over a few HTTP/2 connections and
// reports announces per second, latency percentiles and CPU. It serves the tracker's origin side itself (metainfo
// for the swarms' blobs). perf/tracker-capacity.sh starts the tracker (and redis) and runs this; see docs/benchmarks.md.
using System.Text.Json;
using P2PRegistry.TrackerLoad;

LoadArguments arguments;
try
{
    arguments = LoadArguments.Parse(args);
}
catch (FormatException ex)
{
    Console.Error.WriteLine(ex.Message);
    Console.Error.WriteLine(LoadArguments.Usage);
    return 2;
}

using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancellation.Cancel();
};

LoadReport report;
try
{
    report = await new LoadRunner(arguments, Console.Out).RunAsync(cancellation.Token);
}
catch (InvalidOperationException ex)
{
    Console.Error.WriteLine(ex.Message);
    return 1;
}

Console.WriteLine();
Console.Write(report.ToMarkdown());
if (arguments.JsonOut is { } path)
{
    await File.WriteAllTextAsync(path, JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase }));
}

return report.Errors.Total == 0 && report.Measure.Announces > 0 ? 0 : 1;
