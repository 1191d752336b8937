using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace P2PRegistry.Testing.Images;

/// <summary>
/// What <c>skopeo copy … dir:&lt;path&gt;</c> wrote: <c>manifest.json</c> (the top manifest or index, byte-exact),
/// one file per blob named by its hex digest, and with <c>--all</c> one <c>&lt;hex&gt;.manifest.json</c> per platform manifest.
/// </summary>
public sealed class DirImageLayout
{
    private DirImageLayout(string path)
    {
        Path = path;
    }

    public string Path { get; }

    public string ManifestPath => System.IO.Path.Combine(Path, "manifest.json");

    public static DirImageLayout Open(string path)
    {
        if (!File.Exists(System.IO.Path.Combine(path, "manifest.json")))
        {
            throw new FileNotFoundException($"{path} holds no manifest.json: not a skopeo dir: image.");
        }

        return new DirImageLayout(path);
    }

    /// <summary>sha256 of manifest.json, as <c>sha256:&lt;hex&gt;</c>.</summary>
    public string ManifestDigest() => FileDigest(ManifestPath);

    public JsonNode Manifest() => JsonNode.Parse(File.ReadAllBytes(ManifestPath))!;

    /// <summary>The digest each blob file and per-platform manifest file claims by its name.</summary>
    public IReadOnlyDictionary<string, string> ContentFiles()
    {
        var files = new Dictionary<string, string>();
        foreach (var file in Directory.EnumerateFiles(Path))
        {
            var name = System.IO.Path.GetFileName(file);
            var hex = name.EndsWith(".manifest.json", StringComparison.Ordinal) ? name[..^".manifest.json".Length] : name;
            if (hex.Length == 64 && hex.All(char.IsAsciiHexDigitLower))
            {
                files["sha256:" + hex] = file;
            }
        }

        return files;
    }

    /// <summary>
    /// Every file whose content does not hash to the digest in its name, and every descriptor (config, layer, platform
    /// manifest) of the stored manifests whose file is missing or has another size. Empty = the copy is intact.
    /// </summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        var files = ContentFiles();
        foreach (var (digest, file) in files)
        {
            var actual = FileDigest(file);
            if (actual != digest)
            {
                problems.Add($"{System.IO.Path.GetFileName(file)} hashes to {actual}");
            }
        }

        var manifests = new List<JsonNode> { Manifest() };
        manifests.AddRange(files.Where(f => f.Value.EndsWith(".manifest.json", StringComparison.Ordinal)).Select(f => JsonNode.Parse(File.ReadAllBytes(f.Value))!));
        foreach (var manifest in manifests)
        {
            foreach (var descriptor in Descriptors(manifest))
            {
                if (!files.TryGetValue(descriptor.Digest, out var file))
                {
                    problems.Add($"{descriptor.MediaType} {descriptor.Digest} is referenced but not stored");
                }
                else if (new FileInfo(file).Length != descriptor.Size)
                {
                    problems.Add($"{descriptor.Digest} is {new FileInfo(file).Length} bytes, its descriptor says {descriptor.Size}");
                }
            }
        }

        return problems;
    }

    /// <summary>The config and layer descriptors of an image manifest, or the manifest descriptors of an index.</summary>
    public static IReadOnlyList<OciDescriptor> Descriptors(JsonNode manifest)
    {
        var result = new List<OciDescriptor>();
        if (manifest["config"] is JsonNode config)
        {
            result.Add(ToDescriptor(config));
        }

        foreach (var key in new[] { "layers", "manifests" })
        {
            if (manifest[key] is JsonArray array)
            {
                result.AddRange(array.Select(d => ToDescriptor(d!)));
            }
        }

        return result;
    }

    public static string FileDigest(string path)
    {
        using var stream = File.OpenRead(path);
        return "sha256:" + Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    private static OciDescriptor ToDescriptor(JsonNode node) =>
        new(node["mediaType"]?.GetValue<string>() ?? string.Empty, node["digest"]!.GetValue<string>(), node["size"]!.GetValue<long>());
}
