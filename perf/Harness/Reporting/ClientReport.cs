namespace P2PRegistry.Harness.Reporting;

/// <summary>One client in the report: completion seconds, CPU, whether its file matched the blob's SHA-256, or its error.</summary>
/// <param name="Wave">The rolling-update wave it started in (0 = the first, or the only one); its seconds count from that wave's start.</param>
internal sealed record ClientReport(string Host, double? Seconds, double? CpuSeconds, bool? Identical, string? Error, int Wave = 0);
