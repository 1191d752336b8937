using P2PRegistry.Core.Content;
using P2PRegistry.Origin.Storage;

namespace P2PRegistry.Origin.Collection;

/// <summary>
/// One walk of the store for a collection pass: every blob (size, when written), every manifest revision and tag
/// (the roots), every layer link and referrer link. A folder that vanishes during the walk (a concurrent DELETE) is
/// skipped; any other I/O error propagates and the pass removes nothing.
/// </summary>
internal sealed class StorageInventory
{
    /// <summary>Nesting of repository names walked at most (a name has few components; this bounds a hostile tree).</summary>
    private const int MaxDepth = 32;

    public Dictionary<Digest, StoredBlob> Blobs { get; } = [];

    /// <summary>Manifest revisions (and tag targets) of every repository: kept whatever references them.</summary>
    public List<ManifestRoot> Roots { get; } = [];

    /// <summary>Per digest, the repositories linking it (layer links and revision links) and when each was written.</summary>
    public Dictionary<Digest, List<BlobLink>> Links { get; } = [];

    /// <summary>Subject → referrer manifests recorded for it, in any repository.</summary>
    public Dictionary<Digest, List<Digest>> Referrers { get; } = [];

    public static StorageInventory Read(StorageLayout layout, Func<string, bool> isPulledThrough, CancellationToken cancellationToken)
    {
        var inventory = new StorageInventory();
        var blobs = new DirectoryInfo(layout.Blobs);
        if (blobs.Exists)
        {
            foreach (var prefix in Children(blobs))
            {
                cancellationToken.ThrowIfCancellationRequested();
                foreach (var directory in Children(prefix))
                {
                    if (!Digest.TryParse($"{Digest.Sha256Algorithm}:{directory.Name}", out var digest) || directory.Name[..2] != prefix.Name)
                    {
                        continue;
                    }

                    var data = new FileInfo(Path.Combine(directory.FullName, "data"));
                    var metaInfo = new FileInfo(Path.Combine(directory.FullName, "metainfo"));
                    var written = Latest(directory.LastWriteTimeUtc, data.Exists ? data.LastWriteTimeUtc : default, metaInfo.Exists ? metaInfo.LastWriteTimeUtc : default);
                    inventory.Blobs[digest] = new StoredBlob(digest, data.Exists ? data.Length : 0, written);
                }
            }
        }

        var repositories = new DirectoryInfo(layout.Repositories);
        if (repositories.Exists)
        {
            inventory.WalkRepositories(repositories, "", 0, isPulledThrough, cancellationToken);
        }

        return inventory;
    }

    private void WalkRepositories(DirectoryInfo directory, string prefix, int depth, Func<string, bool> isPulledThrough, CancellationToken cancellationToken)
    {
        if (depth >= MaxDepth)
        {
            return;
        }

        foreach (var child in Children(directory))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (child.Name.StartsWith('_') || (child.Attributes & FileAttributes.ReparsePoint) != 0)
            {
                continue;
            }

            var name = prefix.Length == 0 ? child.Name : $"{prefix}/{child.Name}";
            ReadRepository(child, name, isPulledThrough(name));
            WalkRepositories(child, name, depth + 1, isPulledThrough, cancellationToken);
        }
    }

    private void ReadRepository(DirectoryInfo repository, string name, bool pulled)
    {
        foreach (var (digest, link) in DigestLinks(Path.Combine(repository.FullName, "_layers", Digest.Sha256Algorithm)))
        {
            AddLink(digest, new BlobLink(name, pulled, link.LastWriteTimeUtc, Revision: false));
        }

        var manifests = Path.Combine(repository.FullName, "_manifests");
        foreach (var (digest, link) in DigestLinks(Path.Combine(manifests, "revisions", Digest.Sha256Algorithm)))
        {
            AddLink(digest, new BlobLink(name, pulled, link.LastWriteTimeUtc, Revision: true));
            Roots.Add(new ManifestRoot(name, digest, pulled, link.LastWriteTimeUtc));
        }

        var tags = new DirectoryInfo(Path.Combine(manifests, "tags"));
        if (tags.Exists)
        {
            foreach (var tag in Children(tags))
            {
                // A tag names a revision, which is a root already; one whose revision is gone is kept as a root too (never delete on doubt).
                if (ReadText(Path.Combine(tag.FullName, "current", "link")) is { } text && Digest.TryParse(text.Trim(), out var target))
                {
                    Roots.Add(new ManifestRoot(name, target, pulled, default, Tag: true));
                }
            }
        }

        var referrers = new DirectoryInfo(Path.Combine(manifests, "referrers", Digest.Sha256Algorithm));
        if (referrers.Exists)
        {
            foreach (var subject in Children(referrers))
            {
                if (!Digest.TryParse($"{Digest.Sha256Algorithm}:{subject.Name}", out var subjectDigest))
                {
                    continue;
                }

                foreach (var (referrer, _) in DigestLinks(Path.Combine(subject.FullName, Digest.Sha256Algorithm)))
                {
                    if (!Referrers.TryGetValue(subjectDigest, out var list))
                    {
                        Referrers[subjectDigest] = list = [];
                    }

                    list.Add(referrer);
                }
            }
        }
    }

    private void AddLink(Digest digest, BlobLink link)
    {
        if (!Links.TryGetValue(digest, out var list))
        {
            Links[digest] = list = [];
        }

        list.Add(link);
    }

    /// <summary>The <c>&lt;hex&gt;/link</c> files under a folder, by digest.</summary>
    private static IEnumerable<(Digest Digest, FileInfo Link)> DigestLinks(string path)
    {
        var directory = new DirectoryInfo(path);
        if (!directory.Exists)
        {
            yield break;
        }

        foreach (var entry in Children(directory))
        {
            var link = new FileInfo(Path.Combine(entry.FullName, "link"));
            if (Digest.TryParse($"{Digest.Sha256Algorithm}:{entry.Name}", out var digest) && link.Exists)
            {
                yield return (digest, link);
            }
        }
    }

    private static List<DirectoryInfo> Children(DirectoryInfo directory)
    {
        try
        {
            return [.. directory.EnumerateDirectories()];
        }
        catch (DirectoryNotFoundException)
        {
            return [];
        }
    }

    private static string? ReadText(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    private static DateTime Latest(params ReadOnlySpan<DateTime> times)
    {
        var latest = DateTime.MinValue;
        foreach (var time in times)
        {
            if (time > latest)
            {
                latest = time;
            }
        }

        return latest;
    }
}

/// <summary>A blob folder: its data length (0 when only a metainfo was left) and when it was last written.</summary>
internal readonly record struct StoredBlob(Digest Digest, long Size, DateTime WrittenUtc);

/// <summary>A repository's layer link or manifest revision link to a digest.</summary>
internal readonly record struct BlobLink(string Repository, bool PulledThrough, DateTime WrittenUtc, bool Revision);

/// <summary>A manifest revision (or a tag's target) of a repository; <see cref="LastUsedUtc"/> is its link's time.</summary>
internal readonly record struct ManifestRoot(string Repository, Digest Digest, bool PulledThrough, DateTime LastUsedUtc, bool Tag = false);
