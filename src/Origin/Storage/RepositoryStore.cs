using System.Text;
using P2PRegistry.Core.Content;

namespace P2PRegistry.Origin.Storage;

/// <summary>
/// Which repository holds which blobs and manifests, and its tags: small link files beside the shared
/// blob store (see <see cref="StorageLayout"/>), each replaced atomically.
/// </summary>
internal sealed class RepositoryStore
{
    private readonly StorageLayout _layout;

    public RepositoryStore(StorageLayout layout) => _layout = layout;

    public bool Exists(string name) => Directory.Exists(Path.Combine(_layout.Repository(name), "_layers"))
        || Directory.Exists(Path.Combine(_layout.Repository(name), "_manifests"));

    public Task LinkBlobAsync(string name, Digest digest, CancellationToken cancellationToken) =>
        AtomicFile.WriteAsync(_layout.LayerLink(name, digest), Encoding.ASCII.GetBytes(digest.Value), cancellationToken);

    public bool HasBlob(string name, Digest digest) => File.Exists(_layout.LayerLink(name, digest));

    public bool UnlinkBlob(string name, Digest digest) => DeleteLinkDirectory(_layout.LayerLink(name, digest));

    /// <summary>Records a manifest revision with the media type it is served with.</summary>
    public Task LinkManifestAsync(string name, Digest digest, string mediaType, CancellationToken cancellationToken) =>
        AtomicFile.WriteAsync(_layout.ManifestRevisionLink(name, digest), Encoding.UTF8.GetBytes($"{digest.Value}\n{mediaType}\n"), cancellationToken);

    public bool TryGetManifest(string name, Digest digest, out string mediaType)
    {
        mediaType = "";
        string text;
        try
        {
            text = File.ReadAllText(_layout.ManifestRevisionLink(name, digest), Encoding.UTF8);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return false;
        }

        var lines = text.Split('\n');
        if (lines.Length < 2 || lines[0] != digest.Value || lines[1].Length == 0)
        {
            return false;
        }

        mediaType = lines[1];
        return true;
    }

    public Task SetTagAsync(string name, string tag, Digest digest, CancellationToken cancellationToken) =>
        AtomicFile.WriteAsync(_layout.TagLink(name, tag), Encoding.ASCII.GetBytes(digest.Value), cancellationToken);

    public bool TryResolveTag(string name, string tag, out Digest digest)
    {
        digest = default;
        try
        {
            return Digest.TryParse(File.ReadAllText(_layout.TagLink(name, tag), Encoding.ASCII).Trim(), out digest);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return false;
        }
    }

    public bool DeleteTag(string name, string tag)
    {
        var directory = Path.Combine(_layout.TagsDirectory(name), tag);
        if (!File.Exists(_layout.TagLink(name, tag)))
        {
            return false;
        }

        Directory.Delete(directory, recursive: true);
        return true;
    }

    /// <summary>Removes a manifest revision and every tag that points at it.</summary>
    public bool DeleteManifest(string name, Digest digest)
    {
        if (!DeleteLinkDirectory(_layout.ManifestRevisionLink(name, digest)))
        {
            return false;
        }

        foreach (var tag in ListTags(name) ?? [])
        {
            if (TryResolveTag(name, tag, out var target) && target == digest)
            {
                DeleteTag(name, tag);
            }
        }

        return true;
    }

    /// <summary>The repository's tags in ordinal order, or null if the repository does not exist.</summary>
    public List<string>? ListTags(string name)
    {
        if (!Exists(name))
        {
            return null;
        }

        var directory = new DirectoryInfo(_layout.TagsDirectory(name));
        var tags = new List<string>();
        if (directory.Exists)
        {
            foreach (var tag in directory.EnumerateDirectories())
            {
                if (File.Exists(Path.Combine(tag.FullName, "current", "link")))
                {
                    tags.Add(tag.Name);
                }
            }
        }

        tags.Sort(StringComparer.Ordinal);
        return tags;
    }

    private static bool DeleteLinkDirectory(string linkPath)
    {
        if (!File.Exists(linkPath))
        {
            return false;
        }

        try
        {
            Directory.Delete(Path.GetDirectoryName(linkPath)!, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
            // A concurrent delete got there first: the link is gone either way.
        }

        return true;
    }
}
