namespace P2PRegistry.Harness.Systems;

/// <summary>Finds the third-party programs a system needs on PATH.</summary>
internal static class Tools
{
    public static Task<string?> MissingAsync(IEnumerable<string> programs, CancellationToken cancellationToken)
    {
        var path = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries);
        var missing = programs.Where(p => !path.Any(dir => File.Exists(Path.Combine(dir, p)))).ToList();
        return Task.FromResult(missing.Count == 0 ? null : $"not installed: {string.Join(", ", missing)} (see LAB.md / test.sh)");
    }
}
