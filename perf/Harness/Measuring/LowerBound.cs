namespace P2PRegistry.Harness.Measuring;

/// <summary>
/// The least time in which any scheme can give a file of F bytes to N clients (Kumar &amp; Ross, "Peer-assisted file
/// distribution: the minimum distribution time", 2006): T ≥ max(F/u_origin, F/d_min, N·F/(u_origin + Σu_i)).
/// The origin must send every byte once, the slowest client must receive every byte, and all N·F bytes must be
/// uploaded by someone. Rates in bytes per second of payload.
/// </summary>
internal static class LowerBound
{
    public static double Seconds(long fileBytes, double originUpload, IReadOnlyList<double> clientUploads, IReadOnlyList<double> clientDownloads)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(fileBytes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(originUpload);
        if (clientUploads.Count == 0 || clientUploads.Count != clientDownloads.Count)
        {
            throw new ArgumentException("Give one upload and one download rate per client, at least one client.");
        }

        if (clientUploads.Any(u => u < 0) || clientDownloads.Any(d => d <= 0))
        {
            throw new ArgumentException("Upload rates must be ≥ 0 and download rates > 0.");
        }

        double f = fileBytes;
        var n = clientUploads.Count;
        return Math.Max(f / originUpload, Math.Max(f / clientDownloads.Min(), n * f / (originUpload + clientUploads.Sum())));
    }

    /// <summary>
    /// Two zones, the origin in one: the other zone must receive every byte at least once over the link between them,
    /// so T ≥ F / rate of that link (payload bytes per second).
    /// </summary>
    public static double AcrossZones(long fileBytes, double interZoneRate)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(fileBytes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(interZoneRate);
        return fileBytes / interZoneRate;
    }

    /// <summary>Every link at the same rate in both directions: the bound is F/rate for any N (N/(N+1) &lt; 1).</summary>
    public static double Seconds(long fileBytes, double rate, int clients) =>
        Seconds(fileBytes, rate, Enumerable.Repeat(rate, clients).ToList(), Enumerable.Repeat(rate, clients).ToList());
}
