namespace P2PRegistry.Harness.Reporting;

/// <summary>One client in the report: completion seconds, CPU, whether its file matched the blob's SHA-256, or its error.</summary>
internal sealed record ClientReport(string Host, double? Seconds, double? CpuSeconds, bool? Identical, string? Error);
