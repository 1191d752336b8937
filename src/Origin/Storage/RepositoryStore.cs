using System.Text;
using P2PRegistry.Core.Content;
using P2PRegistry.Origin.Manifests;
using P2PRegistry.Swarm.Pieces;

namespace P2PRegistry.Origin.Storage;

/// <summary>
/// Which repository holds which blobs and manifests, and its tags: small link files beside the shared
/// blob store (see <see cref="StorageLayout"/>), each replaced atomically.
/// </summary>
internal sealed class RepositoryStore
{
    private readonly StorageLayout _layout;

    /// <summary>How long the repository list <c>_catalog</c> pages from stays in use before the tree is walked again.</summary>
    public static readonly TimeSpan CatalogRefresh = TimeSpan.FromSeconds(5);

    /// <summary>Repositories the catalog lists at most: a walk stops there, so its time and memory are bounded.</summary>
    public const int MaxCatalogRepositories = 100_000;

    private readonly TimeProvider _time;
    private readonly Lock _catalogGate = new();

    /// <summary>Sorted repository names and when they were walked; null when a push created a repository since.</summary>
    private volatile CatalogSnapshot? _catalog;

    /// <summary>Bumped by every push that creates a repository: a walk that began before it does not become the list.</summary>
    private int _catalogGeneration;

    public RepositoryStore(StorageLayout layout, TimeProvider time)
    {
        _layout = layout;
        _time = time;
    }

    public bool Exists(string name) => Directory.Exists(Path.Combine(_layout.Repository(name), "_layers"))
        || Directory.Exists(Path.Combine(_layout.Repository(name), "_manifests"));

    public async Task LinkBlobAsync(string name, Digest digest, CancellationToken cancellationToken)
    {
        await DurableFiles.WriteAtomicallyAsync(_layout.LayerLink(name, digest), Encoding.ASCII.GetBytes(digest.Value), cancellationToken).ConfigureAwait(false);
        NoteRepository(name);
    }

    public bool HasBlob(string name, Digest digest) => File.Exists(_layout.LayerLink(name, digest));

    public bool UnlinkBlob(string name, Digest digest) => DeleteLinkDirectory(_layout.LayerLink(name, digest));

    /// <summary>Records a manifest revision with the media type it is served with.</summary>
    public async Task LinkManifestAsync(string name, Digest digest, string mediaType, CancellationToken cancellationToken)
    {
        await DurableFiles.WriteAtomicallyAsync(_layout.ManifestRevisionLink(name, digest), Encoding.UTF8.GetBytes($"{digest.Value}\n{mediaType}\n"), cancellationToken).ConfigureAwait(false);
        NoteRepository(name);
    }

    /// <summary>A push into a repository the catalog does not list yet makes the next listing walk the tree again.</summary>
    private void NoteRepository(string name)
    {
        if (_catalog is { } catalog && catalog.Names.BinarySearch(name, StringComparer.Ordinal) < 0)
        {
            Interlocked.Increment(ref _catalogGeneration);
            _catalog = null;
        }
    }

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
        DurableFiles.WriteAtomicallyAsync(_layout.TagLink(name, tag), Encoding.ASCII.GetBytes(digest.Value), cancellationToken);

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

    /// <summary>Records <paramref name="referrer"/> as referring to <paramref name="subject"/> (which need not exist).</summary>
    public Task LinkReferrerAsync(string name, Digest subject, Referrer referrer, CancellationToken cancellationToken) =>
        DurableFiles.WriteAtomicallyAsync(_layout.ReferrerLink(name, subject, referrer.Digest), referrer.ToJson(), cancellationToken);

    public bool UnlinkReferrer(string name, Digest subject, Digest referrer) => DeleteLinkDirectory(_layout.ReferrerLink(name, subject, referrer));

    /// <summary>
    /// The referrers of <paramref name="subject"/> in digest order, those after <paramref name="after"/> only, read as
    /// the caller enumerates (a page reads only what it lists). A damaged descriptor file is skipped.
    /// </summary>
    public IEnumerable<Referrer> ReadReferrers(string name, Digest subject, Digest? after)
    {
        var directory = new DirectoryInfo(_layout.ReferrersDirectory(name, subject));
        if (!directory.Exists)
        {
            yield break;
        }

        var hexes = new List<string>();
        foreach (var entry in directory.EnumerateDirectories())
        {
            if (Digest.TryParse($"{Digest.Sha256Algorithm}:{entry.Name}", out var digest)
                && (after is not { } start || string.CompareOrdinal(digest.Hex, start.Hex) > 0))
            {
                hexes.Add(digest.Hex);
            }
        }

        hexes.Sort(StringComparer.Ordinal);
        foreach (var hex in hexes)
        {
            var digest = Digest.Parse($"{Digest.Sha256Algorithm}:{hex}");
            byte[] json;
            try
            {
                json = File.ReadAllBytes(_layout.ReferrerLink(name, subject, digest));
            }
            catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
            {
                continue;
            }

            if (Referrer.Parse(json) is { } referrer && referrer.Digest == digest)
            {
                yield return referrer;
            }
        }
    }

    /// <summary>
    /// Repository names (folders holding <c>_layers</c> or <c>_manifests</c>) in ordinal order, after
    /// <paramref name="after"/>, that <paramref name="include"/> accepts; at most <paramref name="max"/>.
    /// Pages from a sorted list walked at most once per <see cref="CatalogRefresh"/> (sooner after a push creates a
    /// repository) and holding at most <see cref="MaxCatalogRepositories"/>: anonymous GETs cannot make each request
    /// walk the whole tree.
    /// </summary>
    public List<string> ListRepositories(string? after, int max, Func<string, bool> include)
    {
        var names = Catalog();
        var start = 0;
        if (after is not null)
        {
            var at = names.BinarySearch(after, StringComparer.Ordinal);
            start = at >= 0 ? at + 1 : ~at;
        }

        var page = new List<string>(Math.Min(max, names.Count - start));
        for (var i = start; i < names.Count && page.Count < max; i++)
        {
            if (include(names[i]))
            {
                page.Add(names[i]);
            }
        }

        return page;
    }

    private List<string> Catalog()
    {
        if (_catalog is { } fresh && _time.GetElapsedTime(fresh.WalkedAt) < CatalogRefresh)
        {
            return fresh.Names;
        }

        // One walk at a time: concurrent listings wait for it and share its result.
        lock (_catalogGate)
        {
            if (_catalog is { } walked && _time.GetElapsedTime(walked.WalkedAt) < CatalogRefresh)
            {
                return walked.Names;
            }

            var walkedAt = _time.GetTimestamp();
            var generation = Volatile.Read(ref _catalogGeneration);
            var names = new List<string>();
            var root = new DirectoryInfo(_layout.Repositories);
            if (root.Exists)
            {
                Walk(root, "", names);
            }

            names.Sort(StringComparer.Ordinal);
            if (Volatile.Read(ref _catalogGeneration) == generation)
            {
                _catalog = new CatalogSnapshot(names, walkedAt);
            }

            return names;
        }
    }

    private sealed record CatalogSnapshot(List<string> Names, long WalkedAt);

    private static void Walk(DirectoryInfo directory, string prefix, List<string> names)
    {
        foreach (var child in directory.EnumerateDirectories())
        {
            if (names.Count >= MaxCatalogRepositories)
            {
                return;
            }

            // Store folders start with '_'; a valid name component never does, so they are never repositories.
            if (child.Name.StartsWith('_') || (child.Attributes & FileAttributes.ReparsePoint) != 0)
            {
                continue;
            }

            var name = prefix.Length == 0 ? child.Name : $"{prefix}/{child.Name}";
            if (!RepositoryName.IsValid(name))
            {
                continue;
            }

            if (Directory.Exists(Path.Combine(child.FullName, "_layers")) || Directory.Exists(Path.Combine(child.FullName, "_manifests")))
            {
                names.Add(name);
            }

            Walk(child, name, names);
        }
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
