namespace P2PRegistry.Harness.Reporting;

/// <summary>All systems for one client count N.</summary>
internal sealed record RunReport(int Clients, double LowerBoundSeconds, IReadOnlyList<SystemReport> Systems);
