namespace P2PRegistry.Testing.Processes;

/// <summary>The outcome of a program that ran to completion.</summary>
public sealed record ProcessResult(string CommandLine, int ExitCode, string StandardOutput, string StandardError)
{
    public bool Succeeded => ExitCode == 0;

    /// <summary>Everything a failing test needs to see: the command, its exit code and both outputs.</summary>
    public string Describe() =>
        $"`{CommandLine}` exited with {ExitCode}{Environment.NewLine}" +
        $"--- stdout ---{Environment.NewLine}{StandardOutput}{Environment.NewLine}" +
        $"--- stderr ---{Environment.NewLine}{StandardError}";

    public override string ToString() => Describe();
}
