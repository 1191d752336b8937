using System.Diagnostics;

namespace P2PRegistry.TrackerLoad.Measuring;

/// <summary>CPU time (user + system) a process has used so far; .NET reads it from <c>/proc/&lt;pid&gt;/stat</c> on Linux.</summary>
internal static class CpuClock
{
    public static TimeSpan Of(int pid)
    {
        using var process = Process.GetProcessById(pid);
        return process.TotalProcessorTime;
    }

    public static TimeSpan OfThisProcess()
    {
        using var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime;
    }
}
