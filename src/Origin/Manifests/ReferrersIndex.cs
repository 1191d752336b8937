using System.Buffers;
using System.Text.Json;
using P2PRegistry.Core.Content;

namespace P2PRegistry.Origin.Manifests;

/// <summary>One page of a referrers response: the image index body, and the last digest listed when more remain.</summary>
internal readonly record struct ReferrersPage(ReadOnlyMemory<byte> Body, int Count, Digest? Next);

/// <summary>
/// Builds the body of <c>GET /v2/&lt;name&gt;/referrers/&lt;digest&gt;</c> (OCI distribution 1.1): an image index
/// <c>{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[…]}</c> of referrer
/// descriptors, optionally only those of one <c>artifactType</c>. A page holds at most <c>maxCount</c> descriptors
/// and at most <c>maxBytes</c> of them (the first always fits: a client reads the index under its manifest limit).
/// </summary>
internal static class ReferrersIndex
{
    public static ReferrersPage Build(IEnumerable<Referrer> referrers, string? artifactType, int maxCount, int maxBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCount, 1);
        var buffer = new ArrayBufferWriter<byte>(512);
        var count = 0;
        long bytes = 0;
        Digest? last = null;
        var more = false;
        using (var writer = new Utf8JsonWriter(buffer, Referrer.WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteNumber("schemaVersion", 2);
            writer.WriteString("mediaType", ManifestReferences.OciIndex);
            writer.WriteStartArray("manifests");
            foreach (var referrer in referrers)
            {
                if (artifactType is not null && !string.Equals(referrer.ArtifactType, artifactType, StringComparison.Ordinal))
                {
                    continue;
                }

                var json = referrer.ToJson();
                if (count == maxCount || (count > 0 && bytes + json.Length > maxBytes))
                {
                    more = true;
                    break;
                }

                writer.WriteRawValue(json, skipInputValidation: true);
                bytes += json.Length;
                count++;
                last = referrer.Digest;
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return new ReferrersPage(buffer.WrittenMemory, count, more ? last : null);
    }
}
