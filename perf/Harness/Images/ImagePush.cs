using P2PRegistry.Harness.Lab;
using P2PRegistry.Harness.Systems;

namespace P2PRegistry.Harness.Images;

/// <summary>
/// Pushes a <see cref="BuiltImage"/> as a client would: every blob (POST + monolithic PUT), then the manifest's
/// exact bytes by tag. Run on <paramref name="host"/> (the seed host), so the upload stays off the shaped links.
/// </summary>
internal static class ImagePush
{
    public static async Task PushAsync(LabHost host, string baseUrl, string repository, string tag, BuiltImage image, CancellationToken cancellationToken)
    {
        foreach (var blob in image.Blobs)
        {
            await BlobPush.PushAsync(host, baseUrl, repository, blob.AsBlob(), cancellationToken).ConfigureAwait(false);
        }

        var put = await host.RunAsync("curl",
            ["-fsS", "-o", "/dev/null", "-X", "PUT", "-H", "Content-Type: " + BuiltImage.ManifestMediaType, "--data-binary", "@" + image.ManifestPath,
                $"{baseUrl}/v2/{repository}/manifests/{tag}"],
            cancellationToken).ConfigureAwait(false);
        if (put.ExitCode != 0)
        {
            throw new InvalidOperationException($"Pushing the image's manifest to {baseUrl} failed: {put.StandardError.Trim()}");
        }
    }
}
