namespace P2PRegistry.Harness.Systems;

/// <summary>One client's fetch: seconds from the start barrier to its last byte, or why it failed.</summary>
internal sealed record ClientResult(string Host, double? CompletionSeconds, string OutputPath, double? CpuSeconds, string? Error);
