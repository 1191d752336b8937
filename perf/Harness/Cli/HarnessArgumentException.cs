namespace P2PRegistry.Harness.Cli;

/// <summary>A command line the harness cannot run; the message says which option and why.</summary>
internal sealed class HarnessArgumentException(string message) : Exception(message);
