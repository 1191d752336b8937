using System.Text.Json;
using P2PRegistry.Core.Content;

namespace P2PRegistry.Origin.Manifests;

/// <summary>
/// What a pushed manifest points at, which must already be in the repository: an image manifest's
/// <c>config</c> and <c>layers</c> (and an artifact's <c>blobs</c>), an index's child <c>manifests</c>.
/// Foreign layers (descriptors with <c>urls</c>) are fetched from elsewhere and are not required.
/// </summary>
internal sealed class ManifestReferences
{
    public const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    public const string OciIndex = "application/vnd.oci.image.index.v1+json";

    private static readonly JsonDocumentOptions s_options = new() { MaxDepth = 64 };

    public List<Digest> Blobs { get; } = [];

    public List<Digest> Manifests { get; } = [];

    /// <summary>The manifest's own <c>mediaType</c> field, if it has one.</summary>
    public string? MediaType { get; private set; }

    /// <summary>The manifest's <c>subject</c> descriptor's digest (OCI 1.1): the manifest it refers to, which need not exist.</summary>
    public Digest? Subject { get; private set; }

    /// <summary>The manifest's own <c>artifactType</c>, if it has a non-empty one.</summary>
    public string? ArtifactType { get; private set; }

    /// <summary>The <c>config</c> descriptor's <c>mediaType</c>, if there is one.</summary>
    public string? ConfigMediaType { get; private set; }

    /// <summary>The manifest's <c>annotations</c> object as raw JSON, if it has one.</summary>
    public string? AnnotationsJson { get; private set; }

    /// <summary>The media type to serve when neither the request nor the JSON names one.</summary>
    public string DefaultMediaType => Manifests.Count > 0 ? OciIndex : OciManifest;

    /// <exception cref="JsonException">Not JSON.</exception>
    /// <exception cref="FormatException">JSON, but not a manifest this registry can check.</exception>
    public static ManifestReferences Read(ReadOnlyMemory<byte> json)
    {
        using var document = JsonDocument.Parse(json, s_options);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException("a manifest is a JSON object");
        }

        var references = new ManifestReferences();
        if (root.TryGetProperty("mediaType", out var mediaType))
        {
            references.MediaType = mediaType.ValueKind == JsonValueKind.String && mediaType.GetString() is { Length: > 0 } text
                ? text
                : throw new FormatException("mediaType must be a non-empty string");
        }

        if (root.TryGetProperty("config", out var config))
        {
            references.Blobs.Add(ReadDescriptorDigest(config, "config"));
            references.ConfigMediaType = OptionalString(config, "mediaType");
        }

        if (root.TryGetProperty("subject", out var subject))
        {
            references.Subject = ReadDescriptorDigest(subject, "subject");
        }

        references.ArtifactType = OptionalString(root, "artifactType");
        if (root.TryGetProperty("annotations", out var annotations))
        {
            references.AnnotationsJson = annotations.ValueKind == JsonValueKind.Object
                ? annotations.GetRawText()
                : throw new FormatException("annotations must be an object");
        }

        ReadDescriptors(root, "layers", references.Blobs);
        ReadDescriptors(root, "blobs", references.Blobs);
        ReadDescriptors(root, "manifests", references.Manifests);
        return references;
    }

    private static string? OptionalString(JsonElement element, string property)
    {
        if (!element.TryGetProperty(property, out var value))
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String
            ? value.GetString() is { Length: > 0 } text ? text : null
            : throw new FormatException($"{property} must be a string");
    }

    private static void ReadDescriptors(JsonElement root, string property, List<Digest> into)
    {
        if (!root.TryGetProperty(property, out var array))
        {
            return;
        }

        if (array.ValueKind != JsonValueKind.Array)
        {
            throw new FormatException($"{property} must be an array");
        }

        foreach (var descriptor in array.EnumerateArray())
        {
            var digest = ReadDescriptorDigest(descriptor, property);
            if (descriptor.TryGetProperty("urls", out var urls) && urls.ValueKind == JsonValueKind.Array && urls.GetArrayLength() > 0)
            {
                continue;
            }

            into.Add(digest);
        }
    }

    private static Digest ReadDescriptorDigest(JsonElement descriptor, string where)
    {
        if (descriptor.ValueKind != JsonValueKind.Object
            || !descriptor.TryGetProperty("digest", out var digestElement)
            || digestElement.ValueKind != JsonValueKind.String)
        {
            throw new FormatException($"each {where} descriptor needs a digest");
        }

        var text = digestElement.GetString();
        return Digest.TryParse(text, out var digest)
            ? digest
            : throw new FormatException($"{where} descriptor has an invalid or unsupported digest '{text}'");
    }
}
