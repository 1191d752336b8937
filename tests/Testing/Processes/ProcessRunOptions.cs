namespace P2PRegistry.Testing.Processes;

/// <summary>How <see cref="ProcessRunner"/> runs a program, beyond its arguments.</summary>
public sealed class ProcessRunOptions
{
    public TimeSpan Timeout { get; init; } = ProcessRunner.DefaultTimeout;

    /// <summary>Variables added to (or, with a null value, removed from) the inherited environment.</summary>
    public IReadOnlyDictionary<string, string?>? Environment { get; init; }

    public string? WorkingDirectory { get; init; }
}
