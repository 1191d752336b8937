namespace P2PRegistry.Testing;

/// <summary>
/// The values of the xunit trait <c>Category</c>, the only test categories the suite has:
/// <c>[Trait("Category", TestCategories.Integration)]</c>. A test with neither is a unit test, and runs in
/// <c>./test.sh --fast</c>. The set is documented in tests/Testing/README.md.
/// </summary>
public static class TestCategories
{
    /// <summary>
    /// Starts a real process: a third-party program (aria2c, mktorrent, skopeo, containerd, docker-registry, busybox,
    /// opentracker, redis…) or our own Agent, Origin or Tracker as a process.
    /// </summary>
    public const string Integration = "Integration";

    /// <summary>In-process only, but long-running (seconds to minutes: throughput runs, big blobs, fuzzing).</summary>
    public const string Slow = "Slow";
}
