namespace P2PRegistry.Testing;

/// <summary>Locates the checkout (the folder holding P2PRegistry.sln) and build outputs from a test's bin folder.</summary>
public static class RepositoryPaths
{
    private static readonly Lazy<string> s_root = new(FindRoot);

    public static string Root => s_root.Value;

    /// <summary>The configuration this test assembly was built in (Debug or Release): sibling projects share it.</summary>
    public static string Configuration =>
        // BaseDirectory ends with a separator (".../bin/Debug/net10.0/"): trim it, or Parent is net10.0 itself.
        new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent?.Name ?? "Debug";

    /// <summary>The built entry assembly of a project under <c>src/</c>, e.g. <c>ProjectDll("Origin", "P2PRegistry.Origin")</c>.</summary>
    public static string ProjectDll(string folder, string assemblyName)
    {
        var path = Path.Combine(Root, "src", folder, "bin", Configuration, "net10.0", assemblyName + ".dll");
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{assemblyName} is not built at {path}; build the solution first.", path);
        }

        return path;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "P2PRegistry.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No P2PRegistry.sln above {AppContext.BaseDirectory}.");
    }
}
