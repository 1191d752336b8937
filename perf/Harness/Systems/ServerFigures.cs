namespace P2PRegistry.Harness.Systems;

/// <summary>
/// What the servers report: their CPU, and the payload bytes the origin side says it sent (used for origin egress
/// when links have no counters, i.e. loopback).
/// </summary>
internal sealed record ServerFigures(double? CpuSeconds, long? OriginPayloadBytes);
