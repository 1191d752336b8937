using System.Runtime.Versioning;

// The harness is Linux-only (namespaces, tc, /proc), and so are its tests.
[assembly: SupportedOSPlatform("linux")]
