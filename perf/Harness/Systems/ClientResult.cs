namespace P2PRegistry.Harness.Systems;

/// <summary>One client's fetch: seconds from the start barrier to its last byte, or why it failed.</summary>
internal sealed record ClientResult(string Host, double? CompletionSeconds, string OutputPath, double? CpuSeconds, string? Error)
{
    /// <summary>The rolling-update wave the client started in (0 = the first, or the only one).</summary>
    public int Wave { get; init; }

    /// <summary>Set when the system checked the result itself (the image is unpacked); null = compare the output file with the blob.</summary>
    public bool? Verified { get; init; }
}
