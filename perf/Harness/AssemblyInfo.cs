using System.Runtime.Versioning;

// Namespaces, tc, /proc and FIFOs: the harness is Linux-only.
[assembly: SupportedOSPlatform("linux")]
