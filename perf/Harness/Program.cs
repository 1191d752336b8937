using System.Runtime.InteropServices;
using P2PRegistry.Harness;
using P2PRegistry.Harness.Cli;
using P2PRegistry.Harness.Lab;
using P2PRegistry.Harness.Reporting;

HarnessOptions options;
try
{
    options = HarnessArguments.Parse(args);
}
catch (HarnessArgumentException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 2;
}

if (options.Help)
{
    Console.WriteLine(HarnessArguments.Usage);
    return 0;
}

using var cts = new CancellationTokenSource();
if (options.Cleanup)
{
    await LeftoverCleaner.CleanAsync(Console.Out, cts.Token);
    return 0;
}

if (!options.Loopback && Environment.UserName != "root")
{
    Console.Error.WriteLine("error: network namespaces need root; run as root or use --loopback.");
    return 2;
}

var runner = new HarnessRunner(options, Console.Out);
// Ctrl-C (SIGINT) and SIGTERM cancel, so the finally blocks stop processes by PID and delete namespaces; a second
// signal is left to the runtime, which ends the process, and ProcessExit then kills and deletes synchronously.
void Cancel(PosixSignalContext context)
{
    if (!cts.IsCancellationRequested)
    {
        context.Cancel = true;
        Console.Error.WriteLine($"{context.Signal}: stopping and cleaning up…");
        cts.Cancel();
    }
}

using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Cancel);
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Cancel);
Console.CancelKeyPress += (_, e) =>
{
    // SIGINT is handled above; this covers a Ctrl-C delivered as a console event rather than a signal.
    if (!cts.IsCancellationRequested)
    {
        e.Cancel = true;
        cts.Cancel();
    }
};
AppDomain.CurrentDomain.ProcessExit += (_, _) => runner.CleanupNow();

try
{
    var report = await runner.RunAsync(cts.Token);
    var output = Directory.CreateDirectory(options.Output).FullName;
    await ReportWriter.WriteAsync(report, output, CancellationToken.None);
    Console.WriteLine($"report: {Path.Combine(output, "report.md")}");
    Console.WriteLine(MarkdownReport.Render(report));
    return report.Runs.SelectMany(r => r.Systems).Any(s => s.Available && s.Error is not null) ? 1 : 0;
}
catch (OperationCanceledException)
{
    Console.Error.WriteLine("cancelled; everything started was stopped and removed.");
    return 130;
}
catch (Exception e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 1;
}
