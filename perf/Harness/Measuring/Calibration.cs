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
    /// One transfer over one shaped link: busybox httpd on the seed host serves a file sized for about a second at
    /// the nominal rate (at least 4 MiB so tbf's 256 KB burst adds under 7 %), fetched by the first client's curl.
    /// </summary>
    public static async Task<Calibration> MeasureAsync(ITestbed testbed, int rateMbit, string workDirectory, ProcessGroup processes, CancellationToken cancellationToken)
    {
        if (!testbed.LinksShaped)
        {
            return Nominal(rateMbit, "loopback: links are not shaped, programs limit themselves");
        }

        if (!File.Exists("/bin/busybox") && !File.Exists("/usr/bin/busybox"))
        {
            return Nominal(rateMbit, "busybox is not installed, so no server for a calibration transfer");
        }

        var nominal = rateMbit * 1_000_000L / 8;
        var size = Math.Clamp(nominal, 4L << 20, 64L << 20);
        var dir = Directory.CreateDirectory(Path.Combine(workDirectory, "calibration")).FullName;
        var file = Path.Combine(dir, "probe.bin");
        await using (var stream = File.Create(file))
        {
            var buffer = new byte[1 << 20];
            Random.Shared.NextBytes(buffer);
            for (long written = 0; written < size; written += buffer.Length)
            {
                await stream.WriteAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, size - written)), cancellationToken).ConfigureAwait(false);
            }
        }

        var seed = testbed.Seed;
        var port = testbed.Port(seed, 8099);
        var busybox = File.Exists("/bin/busybox") ? "/bin/busybox" : "/usr/bin/busybox";
        var server = processes.Start("calibration-httpd", seed, [busybox, "httpd", "-f", "-p", $"{seed.Address}:{port}", "-h", dir], Path.Combine(dir, "httpd.log"));
        try
        {
            var url = $"http://{seed.Address}:{port}/probe.bin";
            var client = testbed.Clients[0];
            await Systems.ServerProbe.WaitForHttpAsync(client, url.Replace("probe.bin", "", StringComparison.Ordinal), TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
            var result = await client.RunAsync("curl", ["-fsS", "-o", "/dev/null", "-w", "%{size_download} %{time_starttransfer} %{time_total}", url], cancellationToken).ConfigureAwait(false);
            var parts = result.StandardOutput.Trim().Split(' ');
            if (result.ExitCode != 0 || parts.Length != 3)
            {
                return Nominal(rateMbit, $"the calibration transfer failed: {result.StandardError.Trim()}");
            }

            var bytes = double.Parse(parts[0], CultureInfo.InvariantCulture);
            var first = double.Parse(parts[1], CultureInfo.InvariantCulture);
            var total = double.Parse(parts[2], CultureInfo.InvariantCulture);
            // From the first byte on: connection setup is not a property of the link's rate.
            var rate = bytes / Math.Max(1e-6, total - first);
            return new Calibration(rate, $"measured: curl of {bytes / (1 << 20):0} MiB from busybox httpd over one {rateMbit} Mbit tbf link ({rate / 1e6:0.00} MB/s payload)");
        }
        finally
        {
            await ProcessGroup.StopAsync(server, TimeSpan.FromSeconds(2)).ConfigureAwait(false);
            Directory.Delete(dir, recursive: true);
        }
    }
}
