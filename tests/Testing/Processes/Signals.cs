using System.Runtime.InteropServices;

namespace P2PRegistry.Testing.Processes;

/// <summary>POSIX signals by PID; .NET only offers SIGKILL (Process.Kill).</summary>
internal static partial class Signals
{
    public const int SigTerm = 15;
    public const int SigKill = 9;

    /// <summary>Sends <paramref name="signal"/> to <paramref name="pid"/>; false when no such process exists any more.</summary>
    public static bool Send(int pid, int signal) => kill(pid, signal) == 0;

#pragma warning disable SYSLIB1054 // A single blittable call; the source-generated form needs unsafe code for no gain here.
    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);
#pragma warning restore SYSLIB1054
}
