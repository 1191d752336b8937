namespace P2PRegistry.Harness.Tests;

/// <summary>Finds what a run may have left behind.</summary>
internal static class LeftBehind
{
    /// <summary>Every process the harness starts names its run folder (/tmp/p2ph-&lt;id&gt;/…) or namespace on its command line.</summary>
    public static List<string> ProcessesMentioning(string prefix)
    {
        var found = new List<string>();
        foreach (var proc in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(proc), out var pid) || pid == Environment.ProcessId)
            {
                continue;
            }

            try
            {
                var cmdline = File.ReadAllText(Path.Combine(proc, "cmdline")).Replace('\0', ' ');
                if (cmdline.Contains(prefix, StringComparison.Ordinal))
                {
                    found.Add($"{pid}: {cmdline}");
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return found;
    }
}
