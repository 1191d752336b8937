using System.Reflection;

namespace P2PRegistry.Testing.Yaml;

/// <summary>
/// Checks environment setting names of deploy files (<c>Section__Key__…</c>, the .NET configuration names) against the
/// options classes the components bind: a misspelled or invented name would be ignored silently by the program.
/// </summary>
public static class SettingNames
{
    /// <summary>Names that are not component settings but are set on purpose (listeners, downward-API values).</summary>
    private static readonly HashSet<string> Plain = ["ASPNETCORE_URLS", "NODE_NAME", "NODE_IP", "NODE_ZONE", "NODE_REGION", "POD_IP"];

    /// <summary>The names of the form <c>Section__Key__…</c> that name no writable property of the section's options class.</summary>
    public static List<string> Unknown(IEnumerable<string> names)
    {
        var sections = new Dictionary<string, Type>(StringComparer.OrdinalIgnoreCase)
        {
            ["Agent"] = OptionsType("Agent", "P2PRegistry.Agent", "P2PRegistry.Agent.Configuration.AgentOptions"),
            ["Origin"] = OptionsType("Origin", "P2PRegistry.Origin", "P2PRegistry.Origin.Configuration.OriginOptions"),
            ["Tracker"] = OptionsType("Tracker", "P2PRegistry.Tracker", "P2PRegistry.Tracker.TrackerOptions"),
            ["Swarm"] = typeof(P2PRegistry.Swarm.SwarmOptions),
        };
        var unknown = new List<string>();
        foreach (var name in names)
        {
            if (Plain.Contains(name))
            {
                continue;
            }

            var parts = name.Split("__");
            if (parts.Length < 2 || !sections.TryGetValue(parts[0], out var type) || !Resolves(type, parts[1..]))
            {
                unknown.Add(name);
            }
        }

        return unknown;
    }

    private static bool Resolves(Type type, string[] path)
    {
        foreach (var part in path)
        {
            if (int.TryParse(part, out _) && type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>))
            {
                type = type.GetGenericArguments()[0];
                continue;
            }

            // Dictionary-bound sections (e.g. Origin:Push:Users:<user>): any key, then the value type.
            if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Dictionary<,>))
            {
                type = type.GetGenericArguments()[1];
                continue;
            }

            var property = type.GetProperty(part, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
            if (property is null || !property.CanWrite)
            {
                return false;
            }

            type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
        }

        return true;
    }

    private static Type OptionsType(string folder, string assembly, string typeName) =>
        Assembly.LoadFrom(RepositoryPaths.ProjectDll(folder, assembly)).GetType(typeName, throwOnError: true)!;
}
