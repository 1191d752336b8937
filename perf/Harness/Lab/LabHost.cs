using System.Diagnostics;

namespace P2PRegistry.Harness.Lab;

/// <summary>
/// One machine of the lab: a network namespace with its own address, or (loopback mode) the machine itself.
/// Commands for the host run under <c>ip netns exec</c>.
/// </summary>
internal sealed record LabHost(string Name, string Address, string? Namespace)
{
    public ProcessStartInfo Command(string file, IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo { UseShellExecute = false };
        if (Namespace is null)
        {
            psi.FileName = file;
        }
        else
        {
            psi.FileName = "ip";
            psi.ArgumentList.Add("netns");
            psi.ArgumentList.Add("exec");
            psi.ArgumentList.Add(Namespace);
            psi.ArgumentList.Add(file);
        }

        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        return psi;
    }

    public Task<Shell.Result> RunAsync(string file, IEnumerable<string> args, CancellationToken cancellationToken, TimeSpan? timeout = null) =>
        Shell.RunAsync(Command(file, args), cancellationToken, timeout);
}
