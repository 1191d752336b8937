namespace P2PRegistry.Testing.Processes;

/// <summary>What to start as a <see cref="ManagedProcess"/>.</summary>
public sealed class ManagedProcessOptions
{
    public ManagedProcessOptions(string fileName, IEnumerable<string>? arguments = null)
    {
        FileName = fileName;
        Arguments = arguments?.ToList() ?? [];
    }

    public string FileName { get; }

    public List<string> Arguments { get; }

    /// <summary>Variables added to (or, with a null value, removed from) the inherited environment.</summary>
    public Dictionary<string, string?> Environment { get; } = [];

    public string? WorkingDirectory { get; init; }

    /// <summary>A short name for messages and the log file; defaults to the program's file name.</summary>
    public string? Name { get; init; }

    /// <summary>When set, every output line is also appended to this file (kept after the process stops).</summary>
    public string? LogFile { get; init; }

    /// <summary>How many of the latest output lines are kept in memory for failure messages.</summary>
    public int RecentLineCount { get; init; } = 300;

    /// <summary>Called for every output line (for example to forward to xunit's ITestOutputHelper); must not throw.</summary>
    public Action<string>? OnOutputLine { get; init; }

    /// <summary>
    /// Whether every output line is checked against <see cref="Logging.TestSecrets"/> (a leak fails
    /// <see cref="ManagedProcess.StopAsync"/>). Null (the default) means "when it is one of our programs": <c>dotnet</c>
    /// running a <c>P2PRegistry.*.dll</c> (Origin, Agent, Tracker); third-party programs print what they like.
    /// </summary>
    public bool? CheckForSecrets { get; init; }

    /// <summary>Whether this process's output is checked for secrets (see <see cref="CheckForSecrets"/>).</summary>
    public bool ChecksForSecrets => CheckForSecrets ?? IsOurComponent(FileName, Arguments);

    public Readiness Readiness { get; init; } = Readiness.None;

    public TimeSpan ReadyTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long <see cref="ManagedProcess.StopAsync"/> waits after SIGTERM before SIGKILL.</summary>
    public TimeSpan StopGracePeriod { get; init; } = TimeSpan.FromSeconds(10);

    private static bool IsOurComponent(string fileName, List<string> arguments)
    {
        if (Path.GetFileName(fileName) != "dotnet" || arguments.Count == 0)
        {
            return false;
        }

        var program = Path.GetFileName(arguments[0]);
        return program.StartsWith("P2PRegistry.", StringComparison.Ordinal) && program.EndsWith(".dll", StringComparison.Ordinal);
    }
}
