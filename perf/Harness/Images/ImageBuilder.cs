using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace P2PRegistry.Harness.Images;

/// <summary>
/// Makes the image the <c>image</c> workload pulls: one gzip layer per size, each a tar of one file of random
/// (incompressible) bytes, an OCI config whose <c>rootfs.diff_ids</c> are the uncompressed tars' digests, and an
/// OCI image manifest. Everything streams in one pass (random → tar → gzip → file), hashing as it goes.
/// </summary>
internal static class ImageBuilder
{
    public const string LayerMediaType = "application/vnd.oci.image.layer.v1.tar+gzip";
    public const string ConfigMediaType = "application/vnd.oci.image.config.v1+json";

    /// <summary>Largest layer content the builder makes (a ustar size field holds less than 8 GiB).</summary>
    public const long MaxLayerBytes = 4L << 30;

    private static readonly DateTimeOffset Created = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <param name="directory">Created if missing; gets <c>layer-&lt;i&gt;.tar.gz</c>, <c>config.json</c>, <c>manifest.json</c>.</param>
    /// <param name="layerBytes">Random bytes in each layer's file, in layer order.</param>
    /// <param name="seed">Seed of the content: the same seed and sizes give the same image (digests and all).</param>
    public static async Task<BuiltImage> BuildAsync(string directory, IReadOnlyList<long> layerBytes, int seed, CancellationToken cancellationToken)
    {
        if (layerBytes.Count == 0)
        {
            throw new ArgumentException("An image needs at least one layer.", nameof(layerBytes));
        }

        Directory.CreateDirectory(directory);
        var random = new Random(seed);
        var layers = new List<ImageLayer>();
        for (var i = 0; i < layerBytes.Count; i++)
        {
            var size = layerBytes[i];
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(size, MaxLayerBytes);
            layers.Add(await WriteLayerAsync(Path.Combine(directory, $"layer-{i + 1:00}.tar.gz"), $"layer-{i + 1:00}.bin", size, random, cancellationToken).ConfigureAwait(false));
        }

        var config = WriteJson(Path.Combine(directory, "config.json"), ConfigMediaType, w => WriteConfig(w, layers));
        var manifest = WriteJson(Path.Combine(directory, "manifest.json"), BuiltImage.ManifestMediaType, w => WriteManifest(w, config, layers));
        return new BuiltImage(layers, config, manifest.Path, manifest.Digest);
    }

    /// <summary>containerd matches the config's platform against its own: the machine's architecture, in Go's names.</summary>
    public static string GoArchitecture => RuntimeInformation.OSArchitecture switch
    {
        Architecture.X64 => "amd64",
        Architecture.Arm64 => "arm64",
        Architecture.X86 => "386",
        Architecture.Arm => "arm",
        var other => other.ToString().ToLowerInvariant(),
    };

    private static async Task<ImageLayer> WriteLayerAsync(string path, string fileName, long size, Random random, CancellationToken cancellationToken)
    {
        var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
        await using var compressed = new HashingStream(file);
        string diffId;
        long tarBytes;
        await using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            await using var tar = new HashingStream(gzip, leaveOpen: true);
            await tar.WriteAsync(UstarHeader.RegularFile(fileName, size, Created), cancellationToken).ConfigureAwait(false);
            var buffer = new byte[1 << 20];
            for (long written = 0; written < size; written += buffer.Length)
            {
                var count = (int)Math.Min(buffer.Length, size - written);
                random.NextBytes(buffer.AsSpan(0, count));
                await tar.WriteAsync(buffer.AsMemory(0, count), cancellationToken).ConfigureAwait(false);
            }

            // Padding to the block, then the two zero blocks that end an archive.
            await tar.WriteAsync(new byte[UstarHeader.Padding(size) + (2 * UstarHeader.BlockSize)], cancellationToken).ConfigureAwait(false);
            diffId = "sha256:" + tar.Sha256Hex();
            tarBytes = tar.Written;
        }

        await compressed.FlushAsync(cancellationToken).ConfigureAwait(false);
        var blob = new ImageBlob(path, compressed.Written, compressed.Sha256Hex(), LayerMediaType);
        return new ImageLayer(blob, diffId, tarBytes, size);
    }

    private static ImageBlob WriteJson(string path, string mediaType, Action<Utf8JsonWriter> write)
    {
        using (var file = File.Create(path))
        {
            using var hashing = new HashingStream(file, leaveOpen: true);
            using var writer = new Utf8JsonWriter(hashing);
            write(writer);
            writer.Flush();
            hashing.Flush();
            var hex = hashing.Sha256Hex();
            return new ImageBlob(path, hashing.Written, hex, mediaType);
        }
    }

    private static void WriteConfig(Utf8JsonWriter w, IReadOnlyList<ImageLayer> layers)
    {
        w.WriteStartObject();
        w.WriteString("created", Created);
        w.WriteString("architecture", GoArchitecture);
        w.WriteString("os", "linux");
        w.WriteStartObject("config");
        w.WriteStartArray("Cmd");
        w.WriteStringValue("/bin/true");
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteStartObject("rootfs");
        w.WriteString("type", "layers");
        w.WriteStartArray("diff_ids");
        foreach (var layer in layers)
        {
            w.WriteStringValue(layer.DiffId);
        }

        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteManifest(Utf8JsonWriter w, ImageBlob config, IReadOnlyList<ImageLayer> layers)
    {
        w.WriteStartObject();
        w.WriteNumber("schemaVersion", 2);
        w.WriteString("mediaType", BuiltImage.ManifestMediaType);
        Descriptor(w, "config", config);
        w.WriteStartArray("layers");
        foreach (var layer in layers)
        {
            Descriptor(w, null, layer.Blob);
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void Descriptor(Utf8JsonWriter w, string? property, ImageBlob blob)
    {
        if (property is null)
        {
            w.WriteStartObject();
        }
        else
        {
            w.WriteStartObject(property);
        }

        w.WriteString("mediaType", blob.MediaType);
        w.WriteString("digest", blob.Digest);
        w.WriteNumber("size", blob.Length);
        w.WriteEndObject();
    }
}
