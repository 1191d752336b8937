using System.Globalization;
using System.Security.Cryptography;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Harness.Cli;
using P2PRegistry.Harness.Images;
using P2PRegistry.Harness.Lab;
using P2PRegistry.Harness.Measuring;
using P2PRegistry.Harness.Reporting;
using P2PRegistry.Harness.Systems;

namespace P2PRegistry.Harness;

/// <summary>
/// One invocation: builds the testbed, makes the blob, calibrates the links, runs every system for every client
/// count on the same links, writes the report — and, whatever happens, stops every process by PID, deletes its
/// namespaces and its work folder.
/// </summary>
internal sealed class HarnessRunner(HarnessOptions options, TextWriter log)
{
    private readonly Lock _cleanupLock = new();
    private ProcessGroup? _processes;
    private ITestbed? _testbed;
    private string? _runDirectory;
    private bool _cleaned;

    public RunId Run { get; } = RunId.New();

    /// <summary>The run's work folder (blob, configs, client files); deleted at the end.</summary>
    public static string RunDirectoryFor(RunId run) => Path.Combine(Path.GetTempPath(), run.RunPrefix);

    public async Task<HarnessReport> RunAsync(CancellationToken cancellationToken)
    {
        var started = DateTimeOffset.UtcNow;
        _runDirectory = Directory.CreateDirectory(RunDirectoryFor(Run)).FullName;
        File.WriteAllText(Path.Combine(_runDirectory, "owner"), string.Create(CultureInfo.InvariantCulture, $"{Environment.ProcessId} {ProcessCpu.ReadStartTime(Environment.ProcessId)}\n"));
        _processes = new ProcessGroup(Path.Combine(_runDirectory, "pids"));
        try
        {
            var maxClients = options.ClientCounts.Max();
            log.WriteLine($"run {Run.RunPrefix}: {maxClients} client hosts, {(options.ImageWorkload ? "an image" : $"{options.SizeMib} MiB")}, {options.RateMbit} Mbit/s, {(options.Loopback ? "loopback" : "namespaces")}");
            _testbed = options.Loopback
                ? new LoopbackTestbed(Run, maxClients, options.RateMbit)
                : await NamespaceTestbed.CreateAsync(Run, maxClients, options.RateMbit, cancellationToken, options.Zones == 2 ? options.InterZoneMbit : null).ConfigureAwait(false);

            // The image workload's unit is the image (the bound, ×F); the systems' own setup publishes its config blob.
            BuiltImage? image = null;
            Blob blob;
            if (options.ImageWorkload)
            {
                var sizes = LayerSizes.Geometric(options.Layers, options.LayerMinMib, options.LayerMaxMib);
                image = await ImageBuilder.BuildAsync(Path.Combine(_runDirectory, "image"), sizes, Random.Shared.Next(), cancellationToken).ConfigureAwait(false);
                blob = image.Config.AsBlob();
                log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"image: {image.Layers.Count} gzip layers of {string.Join(", ", sizes.Select(b => (b / 1048576.0).ToString("0.#", CultureInfo.InvariantCulture)))} MiB of random bytes, {image.TotalBytes / 1048576.0:0.0} MiB in all; waves {string.Join(",", options.WaveSizes(maxClients))} (of {maxClients})"));
            }
            else
            {
                blob = await MakeBlobAsync(Path.Combine(_runDirectory, "blob"), options.BlobBytes, cancellationToken).ConfigureAwait(false);
            }

            var unitBytes = image?.TotalBytes ?? blob.Length;
            var pieceLength = PieceLength.For(blob.Length);
            var calibration = await Calibration.MeasureAsync(_testbed, options.RateMbit, _runDirectory, _processes, cancellationToken).ConfigureAwait(false);
            log.WriteLine($"calibration: {calibration.Method}");

            var runs = new List<RunReport>();
            foreach (var n in options.ClientCounts)
            {
                // With waves, the bound is that of the largest wave: the clients of one wave start together.
                var together = options.ImageWorkload ? options.WaveSizes(n).Max() : n;
                var bound = LowerBound.Seconds(unitBytes, calibration.BytesPerSecond, together);
                if (options.Zones == 2)
                {
                    // Zone b (the seed host is in a) must receive every byte at least once over the link between zones.
                    bound = Math.Max(bound, LowerBound.AcrossZones(unitBytes, calibration.BytesPerSecond * options.InterZoneMbit / options.RateMbit));
                }

                log.WriteLine($"N = {n}: lower bound {bound:0.00} s");
                var systems = new List<SystemReport>();
                foreach (var name in options.Systems)
                {
                    var system = image is null ? Create(name, options) : new ContainerdImageSystem(Create(name, options), image, options.WaveSizes(n));
                    systems.Add(await RunSystemAsync(system, n, blob, unitBytes, pieceLength, bound, cancellationToken).ConfigureAwait(false));
                }

                runs.Add(new RunReport(n, bound, systems));
            }

            return new HarnessReport
            {
                StartedAt = started,
                Machine = $"{Environment.MachineName}, {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}",
                Testbed = _testbed.Description,
                BlobBytes = unitBytes,
                Workload = options.Workload,
                Image = image is null ? null : new ImageSummary(
                    $"<seed>/{ContainerdImageSystem.Repository}:{ContainerdImageSystem.Tag}", image.ManifestDigest,
                    [.. image.Layers.Select(l => l.ContentBytes)], [.. image.Layers.Select(l => l.Blob.Length)], image.TotalBytes),
                RateMbit = options.RateMbit,
                PieceLength = pieceLength,
                PayloadBytesPerSecond = calibration.BytesPerSecond,
                Calibration = calibration.Method,
                Runs = runs,
            };
        }
        finally
        {
            await CleanupAsync().ConfigureAwait(false);
        }
    }

    public static ISystemUnderTest Create(string name, HarnessOptions? options = null) => name switch
    {
        "registry" => new RegistrySystem(),
        "aria2c" => new Aria2cSystem(),
        "p2pregistry" => new P2PRegistrySystem(options?.ControlTls ?? false, options?.PeerTls ?? false, options?.AgentApiTls ?? false, options?.Locality ?? true, options?.ColdAgents ?? false, options?.ComponentDirectory),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "Unknown system."),
    };

    /// <param name="unitBytes">F: what each client must receive (the blob, or the whole image), for the egress multiple.</param>
    private async Task<SystemReport> RunSystemAsync(ISystemUnderTest system, int n, Blob blob, long unitBytes, int pieceLength, double bound, CancellationToken cancellationToken)
    {
        log.WriteLine($"  {system.Name}, N = {n}");
        var availability = await system.CheckAvailableAsync(cancellationToken).ConfigureAwait(false);
        if (!availability.IsAvailable)
        {
            log.WriteLine($"    not available: {availability.Reason}");
            return new SystemReport { Name = system.Name, Description = system.Description, Available = false, Reason = availability.Reason };
        }

        var work = Directory.CreateDirectory(Path.Combine(_runDirectory!, $"n{n}-{system.Name}")).FullName;
        var context = new SystemContext
        {
            Testbed = _testbed!,
            Clients = [.. _testbed!.Clients.Take(n)],
            Blob = blob,
            WorkDirectory = work,
            Processes = _processes!,
            PieceLength = pieceLength,
            Timeout = TimeSpan.FromSeconds(options.TimeoutSeconds),
            Log = log,
        };
        IReadOnlyList<ClientResult> results = [];
        ServerFigures? server = null;
        long? linkBytes = null;
        IReadOnlyList<ZoneCrossing>? crossZone = null;
        string? error = null;
        try
        {
            await system.SetupAsync(context, cancellationToken).ConfigureAwait(false);
            var before = await _testbed.ReadSeedEgressBytesAsync(cancellationToken).ConfigureAwait(false);
            var zonesBefore = await _testbed.ReadZoneIngressBytesAsync(cancellationToken).ConfigureAwait(false);
            results = await system.FetchAtOnceAsync(context, cancellationToken).ConfigureAwait(false);
            var after = await _testbed.ReadSeedEgressBytesAsync(cancellationToken).ConfigureAwait(false);
            var zonesAfter = await _testbed.ReadZoneIngressBytesAsync(cancellationToken).ConfigureAwait(false);
            linkBytes = after - before;
            if (zonesBefore is not null && zonesAfter is not null)
            {
                crossZone = CrossZoneBytes.Between(zonesBefore, zonesAfter, unitBytes);
            }
            server = await system.CollectAsync(context, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            error = e.Message;
            log.WriteLine($"    failed: {e.Message}");
        }
        finally
        {
            await system.TeardownAsync(context).ConfigureAwait(false);
        }

        var clients = new List<ClientReport>();
        foreach (var r in results)
        {
            bool? identical = r.Verified
                ?? (r.CompletionSeconds is null || !File.Exists(r.OutputPath) ? null : await Sha256HexAsync(r.OutputPath, cancellationToken).ConfigureAwait(false) == blob.Sha256Hex);
            clients.Add(new ClientReport(r.Host, r.CompletionSeconds, r.CpuSeconds, identical, r.Error, r.Wave));
        }

        Directory.Delete(work, recursive: true);
        var times = clients.Where(c => c.Seconds is not null && c.Identical == true).Select(c => c.Seconds!.Value).ToList();
        var allDone = times.Count == n;
        double? median = times.Count > 0 ? Cdf.Median(times) : null;
        // A slowest time is only meaningful when every client finished.
        double? slowest = allDone ? times.Max() : null;
        var egressBytes = linkBytes ?? server?.OriginPayloadBytes;
        var waves = clients.Select(c => c.Wave).Distinct().Count() > 1 ? WaveReports(clients) : null;
        var report = new SystemReport
        {
            Name = system.Name,
            Description = system.Description,
            Available = true,
            Error = error ?? (allDone ? null : $"{n - times.Count} of {n} clients did not finish with the right content"),
            Clients = clients,
            MedianSeconds = median,
            SlowestSeconds = slowest,
            MedianToBound = median / bound,
            SlowestToBound = slowest / bound,
            P50Seconds = allDone ? Percentile.NearestRank(times, 50) : null,
            P99Seconds = allDone ? Percentile.NearestRank(times, 99) : null,
            Waves = waves,
            OriginLinkBytes = linkBytes,
            OriginPayloadBytes = server?.OriginPayloadBytes,
            OriginEgressTimesF = egressBytes / (double)unitBytes,
            CrossZone = crossZone,
            ServerCpuSeconds = server?.CpuSeconds,
            ClientCpuSeconds = clients.All(c => c.CpuSeconds is null) ? null : clients.Sum(c => c.CpuSeconds ?? 0),
        };
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"    done {report.Completed}/{n}; median {median:0.00} s, slowest {slowest:0.00} s ({report.SlowestToBound:0.00}× bound); origin egress {report.OriginEgressTimesF:0.00}×F{CrossZoneText(crossZone)}; p50 {report.P50Seconds:0.00} s, p99 {report.P99Seconds:0.00} s"));
        foreach (var wave in waves ?? [])
        {
            log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    wave {wave.Wave}: {wave.Done}/{wave.Clients}; p50 {wave.P50Seconds:0.00} s, p99 {wave.P99Seconds:0.00} s"));
        }

        return report;
    }

    /// <summary>Each wave's p50 / p99 from its own start; a wave with a client that did not finish has none.</summary>
    public static IReadOnlyList<WaveReport> WaveReports(IReadOnlyList<ClientReport> clients) =>
        [.. clients.GroupBy(c => c.Wave).OrderBy(g => g.Key).Select(g =>
        {
            var done = g.Where(c => c.Seconds is not null && c.Identical == true).Select(c => c.Seconds!.Value).ToList();
            var all = done.Count == g.Count();
            return new WaveReport(g.Key + 1, g.Count(), done.Count, all ? Percentile.NearestRank(done, 50) : null, all ? Percentile.NearestRank(done, 99) : null);
        })];

    private static string CrossZoneText(IReadOnlyList<ZoneCrossing>? crossZone) => crossZone is null
        ? ""
        : "; crossed into " + string.Join(", ", crossZone.Select(c => string.Create(CultureInfo.InvariantCulture, $"zone {c.Zone} {c.TimesF:0.00}×F")));

    public static async Task<Blob> MakeBlobAsync(string path, long length, CancellationToken cancellationToken)
    {
        var buffer = new byte[1 << 20];
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using (var stream = File.Create(path))
        {
            for (long written = 0; written < length; written += buffer.Length)
            {
                var count = (int)Math.Min(buffer.Length, length - written);
                RandomNumberGenerator.Fill(buffer.AsSpan(0, count));
                sha.AppendData(buffer, 0, count);
                await stream.WriteAsync(buffer.AsMemory(0, count), cancellationToken).ConfigureAwait(false);
            }
        }

        return new Blob(path, length, Convert.ToHexStringLower(sha.GetHashAndReset()));
    }

    public static async Task<string> Sha256HexAsync(string path, CancellationToken cancellationToken)
    {
        await using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Stops every process by PID, deletes the namespaces and the work folder. Safe to call twice.</summary>
    public async Task CleanupAsync()
    {
        lock (_cleanupLock)
        {
            if (_cleaned)
            {
                return;
            }

            _cleaned = true;
        }

        if (_processes is not null)
        {
            await _processes.StopAllAsync(TimeSpan.FromSeconds(3)).ConfigureAwait(false);
        }

        if (_testbed is not null)
        {
            await _testbed.DisposeAsync().ConfigureAwait(false);
        }

        DeleteRunDirectory();
    }

    /// <summary>For process exit: no awaiting, no grace. SIGKILL by PID, delete namespaces and files.</summary>
    public void CleanupNow()
    {
        lock (_cleanupLock)
        {
            if (_cleaned)
            {
                return;
            }

            _cleaned = true;
        }

        _processes?.KillAllNow();
        (_testbed as NamespaceTestbed)?.DeleteAllNow();
        DeleteRunDirectory();
    }

    private void DeleteRunDirectory()
    {
        if (_runDirectory is not null && Directory.Exists(_runDirectory))
        {
            try
            {
                Directory.Delete(_runDirectory, recursive: true);
            }
            catch (IOException e)
            {
                log.WriteLine($"could not delete {_runDirectory}: {e.Message}");
            }
        }
    }
}
