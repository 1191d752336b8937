using System.CommandLine;
using System.Globalization;
using P2PRegistry.Origin.Configuration;
using P2PRegistry.Origin.Storage;

namespace P2PRegistry.Origin.Collection;

/// <summary>
/// <c>P2PRegistry.Origin gc [--dry-run] --storage &lt;path&gt;</c>: one collection pass over a store from the command
/// line, printing each blob it removes (or, <c>--dry-run</c>, would remove) with its size, then the totals. A dry run
/// only reads, so it may run beside the origin; a real run needs the origin stopped (it takes the origin's lock).
/// No quota applies here (that needs the origin's upstream configuration); the grace period does.
/// </summary>
internal static class GcCommand
{
    public const string Name = "gc";

    public const int ExitFailed = 1;

    /// <summary>A real run on a store an origin is serving.</summary>
    public const int ExitLocked = 3;

    public static bool Matches(string[] args) => args.Length > 0 && args[0] == Name;

    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var storage = new Option<string>("--storage") { Description = "The origin's storage folder (Origin:StoragePath).", Required = true };
        var dryRun = new Option<bool>("--dry-run") { Description = "List what would be removed; change nothing." };
        var grace = new Option<TimeSpan>("--grace-period")
        {
            Description = "Unreferenced blobs written or linked more recently than this stay (Origin:Gc:GracePeriod).",
            DefaultValueFactory = _ => new GcOptions().GracePeriod,
        };
        var maxManifest = new Option<long>("--max-manifest-bytes")
        {
            Description = "Blobs larger than this are never read as manifests (Origin:MaxManifestBytes).",
            DefaultValueFactory = _ => new OriginOptions().MaxManifestBytes,
        };

        var root = new RootCommand("Removes blobs of the origin's store that no manifest references.");
        var command = new Command(Name, root.Description!) { storage, dryRun, grace, maxManifest };
        root.Subcommands.Add(command);
        var exitCode = 0;
        command.SetAction(parsed => exitCode = Execute(parsed.GetValue(storage)!, parsed.GetValue(dryRun), parsed.GetValue(grace),
            parsed.GetValue(maxManifest), output, error));

        var result = root.Parse(args);
        if (result.Errors.Count > 0)
        {
            foreach (var problem in result.Errors)
            {
                error.WriteLine($"{Name}: {problem.Message}");
            }

            return 2;
        }

        var invoked = result.Invoke(new InvocationConfiguration { Output = output, Error = error });
        return invoked != 0 ? invoked : exitCode;
    }

    private static int Execute(string storage, bool dryRun, TimeSpan grace, long maxManifestBytes, TextWriter output, TextWriter error)
    {
        if (grace < TimeSpan.Zero || maxManifestBytes < 1)
        {
            error.WriteLine($"{Name}: --grace-period must not be negative and --max-manifest-bytes must be positive.");
            return 2;
        }

        if (!Directory.Exists(storage))
        {
            error.WriteLine($"{Name}: storage folder '{storage}' does not exist.");
            return ExitFailed;
        }

        using var held = dryRun ? null : StorageLock.TryAcquire(storage);
        if (!dryRun && held is null)
        {
            error.WriteLine($"{Name}: an origin is serving '{storage}' ({StorageLock.FileName} is locked); use --dry-run, or let the origin's collector (Origin:Gc) run.");
            return ExitLocked;
        }

        var collector = new GarbageCollector(new StorageLayout(storage), new CollectionGate(TimeProvider.System), usage: null,
            _ => false, grace, pullThroughQuota: 0, maxManifestBytes, TimeProvider.System);
        collector.Doubt += doubt => error.WriteLine($"{Name}: manifest {doubt.Digest.Value} read conservatively ({doubt.Reason}); every digest in it is kept");
        GcReport report;
        try
        {
            report = collector.Run(dryRun, CancellationToken.None);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            error.WriteLine($"{Name}: failed, nothing more removed: {ex.Message}");
            return ExitFailed;
        }

        var verb = dryRun ? "would remove" : "removed";
        foreach (var (digest, size) in report.Removed)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{verb} {digest.Value} {size}"));
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"total: {report.Removed.Count} blobs, {report.RemovedBytes} bytes {verb}; {report.Deferred} unreferenced blobs within the grace period kept; {report.BlobsSeen} blobs examined in {report.Duration.TotalSeconds:F3} s"));
        return 0;
    }
}
