using System.Text;
using P2PRegistry.Core.Content;
using P2PRegistry.Swarm.Pieces;

namespace P2PRegistry.Agent.Manifests;

/// <summary>
/// Manifests by digest on disk (<c>&lt;root&gt;/sha256/&lt;hex&gt;</c> and its media type in <c>&lt;hex&gt;.type</c>).
/// Content addressed, so an entry never goes stale; only digests that were verified are written.
/// </summary>
internal sealed class ManifestCache
{
    private const string TypeSuffix = ".type";
    private readonly string _root;

    public ManifestCache(string root)
    {
        _root = Path.Combine(Path.GetFullPath(root), Digest.Sha256Algorithm);
        Directory.CreateDirectory(_root);
    }

    public Manifest? TryGet(Digest digest)
    {
        var path = Path.Combine(_root, digest.Hex);
        try
        {
            var mediaType = File.ReadAllText(path + TypeSuffix, Encoding.UTF8);
            var content = File.ReadAllBytes(path);

            // A torn or tampered file is a miss, never served.
            return Digest.Compute(content) == digest && mediaType.Length > 0 ? new Manifest(content, mediaType, digest) : null;
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    public void Put(Manifest manifest)
    {
        var path = Path.Combine(_root, manifest.Digest.Hex);
        if (File.Exists(path) && File.Exists(path + TypeSuffix))
        {
            return;
        }

        // Type first, then the content, each replaced atomically: TryGet needs both. A write that fails (a full disk)
        // leaves neither: its temp file is gone, and so is a type file without its content.
        var typeExisted = File.Exists(path + TypeSuffix);
        DurableFiles.WriteAtomically(path + TypeSuffix, Encoding.UTF8.GetBytes(manifest.MediaType), uniqueTemp: true);
        try
        {
            DurableFiles.WriteAtomically(path, manifest.Content.Span, uniqueTemp: true);
        }
        catch when (!typeExisted)
        {
            DurableFiles.TryDelete(path + TypeSuffix);
            throw;
        }
    }
}
