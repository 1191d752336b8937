using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.Serialization;

namespace P2PRegistry.Testing.Yaml;

/// <summary>YAML as plain maps and lists (YamlDotNet): what deploy-file tests assert on.</summary>
public static class YamlDocuments
{
    /// <summary>Every document of a multi-document stream (<c>kubectl kustomize</c>'s output), each a map.</summary>
    public static List<Dictionary<object, object>> ParseAll(string yaml)
    {
        var deserializer = new DeserializerBuilder().Build();
        var parser = new Parser(new StringReader(yaml));
        parser.Consume<StreamStart>();
        var objects = new List<Dictionary<object, object>>();
        while (parser.Accept<DocumentStart>(out _))
        {
            objects.Add(deserializer.Deserialize<Dictionary<object, object>>(parser));
        }

        return objects;
    }

    /// <summary>A single document (<c>docker-compose config</c>'s output) as a map.</summary>
    public static Dictionary<object, object> Parse(string yaml) =>
        new DeserializerBuilder().Build().Deserialize<Dictionary<object, object>>(yaml);

    /// <summary>An object serialised back to YAML (e.g. a deliberately broken manifest).</summary>
    public static string Serialize(object value) => new SerializerBuilder().Build().Serialize(value);
}
