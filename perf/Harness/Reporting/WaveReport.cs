namespace P2PRegistry.Harness.Reporting;

/// <summary>
/// One wave of a rolling update (<c>--waves</c> / <c>--wave-percent</c>): its clients, how many were done, and the
/// nearest-rank p50 / p99 of their times from the wave's own start; null when a client of the wave did not finish.
/// </summary>
internal sealed record WaveReport(int Wave, int Clients, int Done, double? P50Seconds, double? P99Seconds);
