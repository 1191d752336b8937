namespace P2PRegistry.Harness.Systems;

/// <summary>The blob every client wants: a file on disk with its length and SHA-256.</summary>
internal sealed record Blob(string Path, long Length, string Sha256Hex)
{
    public string Digest => "sha256:" + Sha256Hex;
}
