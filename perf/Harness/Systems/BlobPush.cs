using P2PRegistry.Harness.Lab;

namespace P2PRegistry.Harness.Systems;

/// <summary>
/// Pushes the blob to an OCI registry the way clients do (distribution spec: POST an upload, then one monolithic
/// PUT with ?digest=), with curl run on <paramref name="host"/> so the upload stays off the shaped link.
/// </summary>
internal static class BlobPush
{
    public static async Task PushAsync(LabHost host, string baseUrl, string repository, Blob blob, CancellationToken cancellationToken)
    {
        var post = await host.RunAsync("curl", ["-fsS", "-X", "POST", "-D", "-", "-o", "/dev/null", $"{baseUrl}/v2/{repository}/blobs/uploads/"], cancellationToken).ConfigureAwait(false);
        var location = post.StandardOutput.Split('\n')
            .Select(l => l.Trim())
            .FirstOrDefault(l => l.StartsWith("location:", StringComparison.OrdinalIgnoreCase))?["location:".Length..].Trim()
            ?? throw new InvalidOperationException($"{baseUrl} gave no Location for an upload: {post.StandardError.Trim()}");
        if (!location.StartsWith("http", StringComparison.Ordinal))
        {
            location = baseUrl + location;
        }

        var put = location + (location.Contains('?', StringComparison.Ordinal) ? "&" : "?") + "digest=" + Uri.EscapeDataString(blob.Digest);
        var pushed = await host.RunAsync("curl", ["-fsS", "-o", "/dev/null", "-T", blob.Path, "-H", "Content-Type: application/octet-stream", put], cancellationToken, TimeSpan.FromMinutes(5)).ConfigureAwait(false);
        if (pushed.ExitCode != 0)
        {
            throw new InvalidOperationException($"Pushing the blob to {baseUrl} failed: {pushed.StandardError.Trim()}");
        }
    }
}
