using System.Runtime.Versioning;

// The harness is Linux-only (namespaces, tc, /proc), and so are its tests.
[assembly: SupportedOSPlatform("linux")]

// The real-run tests create namespaces, shaped links and child processes, and check afterwards that the
// test host has no child curl/aria2c/registry left: tests running beside them would make that check race.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
