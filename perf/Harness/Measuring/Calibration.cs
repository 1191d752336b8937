using System.Globalization;
using P2PRegistry.Harness.Lab;

namespace P2PRegistry.Harness.Measuring;

/// <summary>The payload rate a link really carries, which the lower bound uses.</summary>
internal sealed record Calibration(double BytesPerSecond, string Method)
{
    /// <summary>
    /// Payload share of a tbf-shaped rate: TCP/IPv4 over Ethernet carries 1448 payload bytes per 1514-byte frame
    /// (timestamps on), 0.956; LAB.md measured 11.97 MB/s at 100 mbit = 0.958. Used when measuring is impossible.
    /// </summary>
    public const double PayloadFactor = 0.9576;

    public static Calibration Nominal(int rateMbit, string why) =>
        new(rateMbit * 1_000_000.0 / 8 * PayloadFactor, $"nominal {rateMbit} Mbit/s × {PayloadFactor} payload factor ({why})");

    /// <summary>
    /// Two transfers over one shaped link — busybox httpd on the seed host, the first client's curl — of S and 4·S
    /// bytes (S about a quarter second at the nominal rate, at least 2 MiB). The rate is the slope
    /// (4S − S) / (t₂ − t₁): constant costs (connection setup, tbf's 256 KB burst at line rate) cancel out.
    /// </summary>
    public static async Task<Calibration> MeasureAsync(ITestbed testbed, int rateMbit, string workDirectory, ProcessGroup processes, CancellationToken cancellationToken)
    {
        if (!testbed.LinksShaped)
        {
            // curl --limit-rate and aria2c's limits count payload bytes, so no header overhead applies. docker-registry
            // has no limit of its own: in loopback the registry's origin is not a bottleneck, unlike on a real link.
            return new Calibration(rateMbit * 1_000_000.0 / 8,
                $"loopback: nominal {rateMbit} Mbit/s as payload (the programs' own limits count payload; docker-registry has no upload limit, so its figures are not physical)");
        }

        var busybox = new[] { "/bin/busybox", "/usr/bin/busybox" }.FirstOrDefault(File.Exists);
        if (busybox is null)
        {
            return Nominal(rateMbit, "busybox is not installed, so no server for a calibration transfer");
        }

        var small = Math.Clamp(rateMbit * 1_000_000L / 8 / 4, 2L << 20, 64L << 20);
        var dir = Directory.CreateDirectory(Path.Combine(workDirectory, "calibration")).FullName;
        await WriteRandomAsync(Path.Combine(dir, "small.bin"), small, cancellationToken).ConfigureAwait(false);
        await WriteRandomAsync(Path.Combine(dir, "large.bin"), 4 * small, cancellationToken).ConfigureAwait(false);

        var seed = testbed.Seed;
        var port = testbed.Port(seed, 8099);
        var server = processes.Start("calibration-httpd", seed, [busybox, "httpd", "-f", "-p", $"{seed.Address}:{port}", "-h", dir], Path.Combine(dir, "httpd.log"));
        try
        {
            var baseUrl = $"http://{seed.Address}:{port}/";
            var client = testbed.Clients[0];
            await Systems.ServerProbe.WaitForHttpAsync(client, baseUrl, TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
            var (b1, t1) = await FetchAsync(client, baseUrl + "small.bin", cancellationToken).ConfigureAwait(false);
            var (b2, t2) = await FetchAsync(client, baseUrl + "large.bin", cancellationToken).ConfigureAwait(false);
            if (b1 != small || b2 != 4 * small || t2 <= t1)
            {
                return Nominal(rateMbit, "the calibration transfers failed");
            }

            var rate = (b2 - b1) / (t2 - t1);
            return new Calibration(rate, string.Create(CultureInfo.InvariantCulture,
                $"measured: slope of two curl transfers ({b1 / 1048576:0} and {b2 / 1048576:0} MiB) from busybox httpd over one {rateMbit} Mbit tbf link: {rate / 1e6:0.00} MB/s payload"));
        }
        finally
        {
            await ProcessGroup.StopAsync(server, TimeSpan.FromSeconds(2)).ConfigureAwait(false);
            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task<(double Bytes, double Seconds)> FetchAsync(LabHost client, string url, CancellationToken cancellationToken)
    {
        var result = await client.RunAsync("curl", ["-fsS", "-o", "/dev/null", "-w", "%{size_download} %{time_total}", url], cancellationToken).ConfigureAwait(false);
        var parts = result.StandardOutput.Trim().Split(' ');
        return result.ExitCode == 0 && parts.Length == 2
            ? (double.Parse(parts[0], CultureInfo.InvariantCulture), double.Parse(parts[1], CultureInfo.InvariantCulture))
            : (0, 0);
    }

    private static async Task WriteRandomAsync(string path, long size, CancellationToken cancellationToken)
    {
        await using var stream = File.Create(path);
        var buffer = new byte[1 << 20];
        Random.Shared.NextBytes(buffer);
        for (long written = 0; written < size; written += buffer.Length)
        {
            await stream.WriteAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, size - written)), cancellationToken).ConfigureAwait(false);
        }
    }
}
