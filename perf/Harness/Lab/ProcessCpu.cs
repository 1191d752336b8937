using System.Globalization;

namespace P2PRegistry.Harness.Lab;

/// <summary>CPU time of a live process from <c>/proc/&lt;pid&gt;/stat</c> (utime + stime, in clock ticks).</summary>
internal static class ProcessCpu
{
    // sysconf(_SC_CLK_TCK) is 100 on every Linux architecture .NET runs on.
    private const double TicksPerSecond = 100;

    public static double? ReadSeconds(int pid)
    {
        try
        {
            return ParseStat(File.ReadAllText($"/proc/{pid}/stat"))?.CpuSeconds;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    public static ulong? ReadStartTime(int pid)
    {
        try
        {
            return ParseStat(File.ReadAllText($"/proc/{pid}/stat"))?.StartTime;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>
    /// proc(5): "pid (comm) state ppid …"; comm may hold spaces and parentheses, so fields are counted after the
    /// last ')'. utime and stime are fields 14 and 15, starttime field 22 (1-based, over the whole line).
    /// </summary>
    public static (double CpuSeconds, ulong StartTime, int ParentPid)? ParseStat(string stat)
    {
        var close = stat.LastIndexOf(')');
        if (close < 0)
        {
            return null;
        }

        var fields = stat[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        // fields[0] is field 3 (state).
        if (fields.Length < 20
            || !ulong.TryParse(fields[11], NumberStyles.None, CultureInfo.InvariantCulture, out var utime)
            || !ulong.TryParse(fields[12], NumberStyles.None, CultureInfo.InvariantCulture, out var stime)
            || !ulong.TryParse(fields[19], NumberStyles.None, CultureInfo.InvariantCulture, out var start)
            || !int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var ppid))
        {
            return null;
        }

        return ((utime + stime) / TicksPerSecond, start, ppid);
    }

    /// <summary>bash's <c>times</c>: "0m0.001s 0m0.002s\n0m1.250s 0m0.310s"; the second line is the children's user and system time.</summary>
    public static double? ParseBashTimes(string text)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (lines.Length < 2)
        {
            return null;
        }

        var parts = lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        double total = 0;
        foreach (var part in parts)
        {
            var m = part.IndexOf('m', StringComparison.Ordinal);
            if (m < 0 || !part.EndsWith('s')
                || !double.TryParse(part[..m], NumberStyles.Float, CultureInfo.InvariantCulture, out var minutes)
                || !double.TryParse(part[(m + 1)..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
            {
                return null;
            }

            total += minutes * 60 + seconds;
        }

        return total;
    }
}
