using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using P2PRegistry.Testing.Processes;

namespace P2PRegistry.Testing.Images;

/// <summary>
/// Builds real, runnable images with umoci into an OCI layout: layer 1 is busybox (static) as <c>/bin/busybox</c>
/// with <c>/bin/sh</c> linked to it; layer 2 holds one file of N MiB of seeded random (incompressible) bytes.
/// The random bytes are a function of the seed; layer digests are not (tar headers carry build times).
/// </summary>
public static class OciImageBuilder
{
    public const string BusyboxPath = "/bin/busybox";
    public const string DefaultRandomFilePath = "/data/random.bin";
    private const string IndexMediaType = "application/vnd.oci.image.index.v1+json";
    private const string RefNameAnnotation = "org.opencontainers.image.ref.name";
    private const int MiB = 1024 * 1024;

    /// <summary>Builds one image tagged <paramref name="tag"/> in the layout at <paramref name="layoutPath"/> (created if missing).</summary>
    public static async Task<OciImage> BuildAsync(
        string layoutPath,
        string tag,
        int randomMiB,
        int seed,
        string architecture = "amd64",
        string randomFilePath = DefaultRandomFilePath,
        CancellationToken cancellationToken = default)
    {
        var timeout = TimeSpan.FromMinutes(3);
        if (!File.Exists(Path.Combine(layoutPath, "index.json")))
        {
            await ProcessRunner.RunOrThrowAsync("umoci", ["init", "--layout", layoutPath], timeout, cancellationToken).ConfigureAwait(false);
        }

        var image = $"{layoutPath}:{tag}";
        await ProcessRunner.RunOrThrowAsync("umoci", ["new", "--image", image], timeout, cancellationToken).ConfigureAwait(false);

        var bundle = layoutPath.TrimEnd('/') + $".bundle-{Guid.NewGuid().ToString("N")[..8]}";
        try
        {
            await ProcessRunner.RunOrThrowAsync("umoci", ["unpack", "--image", image, bundle], timeout, cancellationToken).ConfigureAwait(false);
            var rootfs = Path.Combine(bundle, "rootfs");

            var bin = Directory.CreateDirectory(Path.Combine(rootfs, "bin")).FullName;
            File.Copy(BusyboxBinary(), Path.Combine(bin, "busybox"));
            File.CreateSymbolicLink(Path.Combine(bin, "sh"), "busybox");
            // --refresh-bundle makes the next repack diff against this one, so each repack adds exactly one layer.
            await ProcessRunner.RunOrThrowAsync("umoci", ["repack", "--refresh-bundle", "--image", image, bundle], timeout, cancellationToken).ConfigureAwait(false);

            var randomFile = Path.Combine(rootfs, randomFilePath.TrimStart('/'));
            Directory.CreateDirectory(Path.GetDirectoryName(randomFile)!);
            var randomSha256 = await WriteRandomFileAsync(randomFile, randomMiB, seed, cancellationToken).ConfigureAwait(false);
            await ProcessRunner.RunOrThrowAsync("umoci", ["repack", "--refresh-bundle", "--image", image, bundle], timeout, cancellationToken).ConfigureAwait(false);

            await ProcessRunner.RunOrThrowAsync(
                "umoci",
                ["config", "--image", image, "--config.cmd", "/bin/sh", "--architecture", architecture, "--os", "linux"],
                timeout,
                cancellationToken).ConfigureAwait(false);

            return await ReadImageAsync(layoutPath, tag, architecture, randomFilePath, randomSha256, (long)randomMiB * MiB, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (Directory.Exists(bundle))
            {
                Directory.Delete(bundle, recursive: true);
            }
        }
    }

    /// <summary>
    /// Writes an OCI image index over <paramref name="images"/> (which must live in <paramref name="layoutPath"/>), one
    /// manifest per platform (linux/&lt;architecture&gt;), stores it as a blob and tags it <paramref name="tag"/> in index.json.
    /// umoci cannot make indexes, so this writes the JSON itself.
    /// </summary>
    public static async Task<OciImageIndex> BuildIndexAsync(string layoutPath, string tag, IReadOnlyList<OciImage> images, CancellationToken cancellationToken = default)
    {
        var manifests = new JsonArray();
        foreach (var image in images)
        {
            if (Path.GetFullPath(image.LayoutPath) != Path.GetFullPath(layoutPath))
            {
                throw new ArgumentException($"Image {image.Tag} is in {image.LayoutPath}, not in {layoutPath}.", nameof(images));
            }

            manifests.Add(new JsonObject
            {
                ["mediaType"] = "application/vnd.oci.image.manifest.v1+json",
                ["digest"] = image.ManifestDigest,
                ["size"] = image.ManifestSize,
                ["platform"] = new JsonObject { ["architecture"] = image.Architecture, ["os"] = "linux" },
            });
        }

        var index = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = IndexMediaType,
            ["manifests"] = manifests,
        };
        var bytes = JsonSerializer.SerializeToUtf8Bytes(index);
        var digest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes));
        await File.WriteAllBytesAsync(BlobPath(layoutPath, digest), bytes, cancellationToken).ConfigureAwait(false);

        var indexJsonPath = Path.Combine(layoutPath, "index.json");
        var layoutIndex = JsonNode.Parse(await File.ReadAllTextAsync(indexJsonPath, cancellationToken).ConfigureAwait(false))!.AsObject();
        layoutIndex["manifests"]!.AsArray().Add(new JsonObject
        {
            ["mediaType"] = IndexMediaType,
            ["digest"] = digest,
            ["size"] = bytes.Length,
            ["annotations"] = new JsonObject { [RefNameAnnotation] = tag },
        });
        await File.WriteAllTextAsync(indexJsonPath, layoutIndex.ToJsonString(), cancellationToken).ConfigureAwait(false);
        return new OciImageIndex(layoutPath, tag, digest, bytes.Length, images);
    }

    /// <summary>The bytes <see cref="BuildAsync"/> writes for (<paramref name="randomMiB"/>, <paramref name="seed"/>), 1 MiB at a time.</summary>
    public static IEnumerable<byte[]> RandomContent(int randomMiB, int seed)
    {
        // A seeded System.Random is specified to give the same sequence on every run of the same runtime.
        var random = new Random(seed);
        for (var i = 0; i < randomMiB; i++)
        {
            var buffer = new byte[MiB];
            random.NextBytes(buffer);
            yield return buffer;
        }
    }

    /// <summary>The path of a blob inside an OCI layout.</summary>
    public static string BlobPath(string layoutPath, string digest)
    {
        var parts = digest.Split(':', 2);
        return Path.Combine(layoutPath, "blobs", parts[0], parts[1]);
    }

    private static string BusyboxBinary()
    {
        // busybox-static installs /bin/busybox; a dynamically linked busybox would not run in an empty rootfs.
        foreach (var candidate in new[] { "/bin/busybox", "/usr/bin/busybox" })
        {
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException("busybox is not installed (apt-get install busybox-static).");
    }

    private static async Task<string> WriteRandomFileAsync(string path, int randomMiB, int seed, CancellationToken cancellationToken)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
        foreach (var buffer in RandomContent(randomMiB, seed))
        {
            sha.AppendData(buffer);
            await file.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        }

        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    private static async Task<OciImage> ReadImageAsync(
        string layoutPath, string tag, string architecture, string randomFilePath, string randomSha256, long randomSize, CancellationToken cancellationToken)
    {
        var layoutIndex = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(layoutPath, "index.json"), cancellationToken).ConfigureAwait(false))!;
        var entry = layoutIndex["manifests"]!.AsArray()
            .LastOrDefault(m => m?["annotations"]?[RefNameAnnotation]?.GetValue<string>() == tag)
            ?? throw new InvalidOperationException($"Tag {tag} is not in {layoutPath}/index.json after umoci ran.");
        var manifestDigest = entry["digest"]!.GetValue<string>();
        var manifestBytes = await File.ReadAllBytesAsync(BlobPath(layoutPath, manifestDigest), cancellationToken).ConfigureAwait(false);
        var manifest = JsonNode.Parse(manifestBytes)!;
        var layers = manifest["layers"]!.AsArray()
            .Select(l => new OciDescriptor(l!["mediaType"]!.GetValue<string>(), l["digest"]!.GetValue<string>(), l["size"]!.GetValue<long>()))
            .ToList();
        return new OciImage(
            layoutPath,
            tag,
            manifestDigest,
            manifestBytes.Length,
            manifest["config"]!["digest"]!.GetValue<string>(),
            layers,
            architecture,
            randomFilePath,
            randomSha256,
            randomSize);
    }
}
