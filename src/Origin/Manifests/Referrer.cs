using System.Text.Encodings.Web;
using System.Text.Json;
using P2PRegistry.Core.Content;

namespace P2PRegistry.Origin.Manifests;

/// <summary>
/// One entry of a referrers response (OCI distribution 1.1, "Listing Referrers"): the descriptor of a manifest whose
/// <c>subject</c> names another. <c>artifactType</c> is the manifest's own, else (image manifests only) its config's
/// media type; <c>annotations</c> are the manifest's, copied as they are.
/// </summary>
internal sealed record Referrer(Digest Digest, string MediaType, long Size, string? ArtifactType, string? AnnotationsJson)
{
    private static readonly JsonDocumentOptions s_options = new() { MaxDepth = 16 };

    /// <summary>Media types keep their <c>+</c> (the default encoder writes <c>\u002B</c>); the body is JSON, never HTML.</summary>
    internal static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The referrer descriptor of a pushed manifest, or null when it has no subject.</summary>
    public static Referrer? From(ManifestReferences references, Digest digest, long size, string mediaType)
    {
        if (references.Subject is null)
        {
            return null;
        }

        // An index carries no config: without its own artifactType the field is left out.
        var artifactType = references.ArtifactType
            ?? (mediaType == ManifestReferences.OciIndex || references.Manifests.Count > 0 ? null : references.ConfigMediaType);
        return new Referrer(digest, mediaType, size, artifactType, references.AnnotationsJson);
    }

    /// <summary>The descriptor as JSON: what the index lists and what the store keeps.</summary>
    public void WriteTo(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("mediaType", MediaType);
        writer.WriteString("digest", Digest.Value);
        writer.WriteNumber("size", Size);
        if (ArtifactType is not null)
        {
            writer.WriteString("artifactType", ArtifactType);
        }

        if (AnnotationsJson is not null)
        {
            writer.WritePropertyName("annotations");
            writer.WriteRawValue(AnnotationsJson, skipInputValidation: false);
        }

        writer.WriteEndObject();
    }

    public byte[] ToJson()
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, WriterOptions))
        {
            WriteTo(writer);
        }

        return stream.ToArray();
    }

    /// <summary>A stored descriptor; null when it is torn or not one (a damaged file is left out, not served).</summary>
    public static Referrer? Parse(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = s_options.MaxDepth });
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("mediaType", out var mediaType) || mediaType.GetString() is not { Length: > 0 } type
                || !root.TryGetProperty("digest", out var digestElement) || !Digest.TryParse(digestElement.GetString(), out var digest)
                || !root.TryGetProperty("size", out var sizeElement) || !sizeElement.TryGetInt64(out var size) || size < 0)
            {
                return null;
            }

            var artifactType = root.TryGetProperty("artifactType", out var artifact) ? artifact.GetString() : null;
            var annotations = root.TryGetProperty("annotations", out var notes) && notes.ValueKind == JsonValueKind.Object ? notes.GetRawText() : null;
            return new Referrer(digest, type, size, artifactType, annotations);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            return null;
        }
    }
}
